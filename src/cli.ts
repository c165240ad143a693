import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { parseArgs } from 'node:util';
import { isEmail, isUUID } from 'class-validator';
import { AgenciesService } from './agencies/agencies.service';
import { CliModule } from './agencies/cli.module';
import { ROLES, Role } from './agencies/user.entity';
import { JwtService } from './auth/jwt.service';
import { buildAppConfig } from './config/app-config';
import { prepareDatabase } from './database/migrate';

const USAGE =
  'usage: cli agency:create --name <name> --owner-email <email> | ' +
  `user:add --agency <uuid> --email <email> --role <${ROLES.join('|')}> | token --user <uuid>`;

class UsageError extends Error {}

type Options = Record<string, string | undefined>;

function required(options: Options, name: string, check?: (value: string) => boolean, what?: string): string {
  const value = options[name];
  if (!value) throw new UsageError(`--${name} is required (${USAGE})`);
  if (check && !check(value)) throw new UsageError(`--${name} must be ${what}`);
  return value;
}

async function run(command: string | undefined, options: Options): Promise<object> {
  if (!command || !['agency:create', 'user:add', 'token'].includes(command)) {
    throw new UsageError(`${command ? `unknown command "${command}"` : 'no command given'} (${USAGE})`);
  }
  const config = buildAppConfig(process.env);
  await prepareDatabase(config.databaseUrl, config.runMigrations);
  const app = await NestFactory.createApplicationContext(CliModule.forRoot(config), { logger: false });
  try {
    const agencies = app.get(AgenciesService);
    const jwt = app.get(JwtService);
    if (command === 'agency:create') {
      const name = required(options, 'name');
      const email = required(options, 'owner-email', (v) => isEmail(v), 'an email address');
      const { agency, owner } = await agencies.createAgency(name, email);
      return { agency_id: agency.id, user_id: owner.id, token: await jwt.issue(owner.id, { email }) };
    }
    if (command === 'user:add') {
      const agencyId = required(options, 'agency', (v) => isUUID(v), 'a uuid');
      const email = required(options, 'email', (v) => isEmail(v), 'an email address');
      const role = required(
        options,
        'role',
        (v) => (ROLES as readonly string[]).includes(v),
        ROLES.join(', '),
      ) as Role;
      const user = await agencies.addUser(agencyId, email, role);
      return { user_id: user.id, token: await jwt.issue(user.id, { email }) };
    }
    const userId = required(options, 'user', (v) => isUUID(v), 'a uuid');
    const user = await agencies.findUser(userId);
    if (!user) throw new Error(`no user ${userId}`);
    return { token: await jwt.issue(user.id, { email: user.email }) };
  } finally {
    await app.close();
  }
}

/** Operator CLI (CONTRACT §1): JSON on stdout; a one-line reason on stderr and a non-zero exit on failure. */
async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    strict: true,
    options: {
      name: { type: 'string' },
      'owner-email': { type: 'string' },
      agency: { type: 'string' },
      email: { type: 'string' },
      role: { type: 'string' },
      user: { type: 'string' },
    },
  });
  const result = await run(positionals[0], values);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`${err.message.split('\n')[0]}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
