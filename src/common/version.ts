import { version } from '../../package.json';

export const APP_VERSION: string = version;
export const USER_AGENT = `Switchboard-Webhooks/${APP_VERSION} (+https://github.com/switchboard)`;
