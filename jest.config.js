// Two projects: unit specs beside the code, e2e specs in test/ against real Postgres and Redis.
// The Swagger CLI plugin runs under ts-jest too, so the OpenAPI document the tests read is the real one.
const tsJest = [
  'ts-jest',
  {
    tsconfig: 'tsconfig.json',
    astTransformers: { before: ['<rootDir>/test/support/swagger-transformer.js'] },
  },
];
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': tsJest },
  moduleFileExtensions: ['ts', 'js', 'json'],
};
module.exports = {
  testTimeout: 60000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      roots: ['<rootDir>/src', '<rootDir>/tools'],
      testMatch: ['**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      // Every answer read through supertest is checked against openapi.json.
      setupFilesAfterEnv: ['<rootDir>/test/support/validate-responses.ts'],
    },
  ],
};
