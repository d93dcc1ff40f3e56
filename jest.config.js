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

const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
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
