// Native ESM Jest (run with NODE_OPTIONS=--experimental-vm-modules); swc keeps the
// legacy decorators and their metadata that Nest's dependency injection reads.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

// Node 20.19 requires ES modules from CommonJS, Jest's module loader does not: the one ESM-only
// package a CommonJS dependency requires (content-disposition, for @fastify/static, which serves
// /docs) is compiled to CommonJS for the tests.
const swcToCommonJs = ['@swc/jest', { module: { type: 'commonjs' } }];

const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': swc,
    '/node_modules/content-disposition/.+\\.js$': swcToCommonJs,
  },
  transformIgnorePatterns: ['/node_modules/(?!content-disposition/)'],
  moduleNameMapper: {
    '^@ordering/(.*)$': '<rootDir>/libs/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  rootDir: import.meta.dirname,
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  // Nest's entry points import it first; tests that build modules need it the same way.
  setupFiles: ['reflect-metadata'],
};

export default {
  // One suite at a time: the end-to-end suites restart the shared RabbitMQ and kill services.
  maxWorkers: 1,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      setupFilesAfterEnv: ['<rootDir>/test/setup/integration-timeout.ts'],
      testMatch: ['<rootDir>/{apps,libs}/**/*.int-spec.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      setupFilesAfterEnv: ['<rootDir>/test/setup/e2e-timeout.ts'],
      testMatch: ['<rootDir>/{apps,test}/**/*.e2e-spec.ts'],
    },
  ],
};
