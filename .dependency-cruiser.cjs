/** Architecture boundaries, checked by `npm run boundaries` (and by CI). */
const FRAMEWORKS =
  '^node_modules/(@nestjs|typeorm|pg|amqplib|amqp-connection-manager|rxjs|class-validator|class-transformer|nestjs-pino|pino)';

module.exports = {
  forbidden: [
    {
      name: 'apps-are-separate',
      comment: 'A service never imports another service: they talk through events only.',
      severity: 'error',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'libs-do-not-import-apps',
      comment: 'Libraries are plumbing and contracts shared by the services, never the reverse.',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'domain-is-plain-typescript',
      comment: 'Domain code (decide/evolve, business rules) imports no framework or driver.',
      severity: 'error',
      from: { path: '/domain/' },
      to: { path: FRAMEWORKS },
    },
    {
      name: 'domain-depends-on-domain-only',
      comment: 'Domain code depends only on other domain code and the published contracts.',
      severity: 'error',
      from: { path: '/domain/', pathNot: '\\.(spec|int-spec|e2e-spec)\\.ts$' },
      to: { path: '^(apps|libs)/', pathNot: ['/domain/', '^libs/contracts/'] },
    },
    {
      name: 'ordering-does-not-reach-into-fulfilment',
      comment:
        'The saga builds on the order (its commands, its streams), never the reverse: each slice ' +
        'registers its own projections and providers (OrderStreamModule finds them).',
      severity: 'error',
      from: { path: '^apps/order/src/ordering/' },
      to: { path: '^apps/order/src/fulfilment/' },
    },
    {
      name: 'test-helpers-stay-in-tests',
      comment:
        'Production code never imports the testing library or a test-support file (*.test-support.ts, ' +
        'left out of the builds).',
      severity: 'error',
      from: {
        path: '^(apps|libs)/',
        pathNot: ['\\.(spec|int-spec|e2e-spec|test-support)\\.ts$', '^libs/testing/'],
      },
      to: { path: ['^libs/testing/', '\\.test-support\\.ts$'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
    },
  },
};
