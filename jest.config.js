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
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testTimeout: 30_000,
      testMatch: ['<rootDir>/{apps,libs}/**/*.int-spec.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      testTimeout: 120_000,
      testMatch: ['<rootDir>/{apps,test}/**/*.e2e-spec.ts'],
    },
  ],
};
