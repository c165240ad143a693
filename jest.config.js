// Two projects: unit specs beside the code, e2e specs in test/ against real Postgres and Redis.
// The Swagger CLI plugin runs under ts-jest too, so the OpenAPI document the tests read is the real one.
const tsJest = [
  'ts-jest',
  {
    tsconfig: 'tsconfig.json',
    astTransformers: { before: ['<rootDir>/test/support/swagger-transformer.js'] },
  },
];
// content-disposition 3 (under @fastify/static) ships only as ES modules: Node 20 requires it natively,
// Jest's module runtime cannot, so that one package is turned into CommonJS for the tests.
const esmOnly = ['content-disposition'];
const common = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': tsJest,
    [`node_modules/(${esmOnly.join('|')})/.+\\.js$`]: [
      'babel-jest',
      { plugins: ['@babel/plugin-transform-modules-commonjs'], babelrc: false, configFile: false },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
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
