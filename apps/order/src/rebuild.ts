// `npm run rebuild -- <projection>`: rebuilds one of the order service's read models from the
// event log, in one transaction, while the service may keep running.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { EventStore } from '@ordering/event-store';
import { OrderModule } from './order.module.js';

const name = process.argv[2];
const app = await NestFactory.createApplicationContext(OrderModule, {
  logger: ['error', 'warn'],
  abortOnError: false,
});
try {
  const store = app.get(EventStore, { strict: false });
  const rebuildable = store.projections.filter((projection) => projection.tables?.length);
  const known = rebuildable.map((projection) => projection.name);
  const projection = rebuildable.find((candidate) => candidate.name === name);
  if (!projection) {
    console.error(`Usage: npm run rebuild -- <projection>\nProjections: ${known.join(', ')}`);
    process.exitCode = 2;
  } else {
    const started = performance.now();
    const events = await store.rebuild(projection);
    const seconds = (performance.now() - started) / 1000;
    console.log(`Rebuilt ${name} from ${events} events in ${seconds.toFixed(1)} s`);
  }
} finally {
  await app.close();
}
