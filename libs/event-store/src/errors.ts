/** The stream was not at the version the writer expected: someone else appended first. */
export class ConcurrencyError extends Error {
  override name = 'ConcurrencyError';

  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
    readonly actualVersion?: number,
  ) {
    super(
      `Stream ${streamId} is not at version ${expectedVersion}` +
        (actualVersion === undefined ? '' : ` (it is at ${actualVersion})`),
    );
  }
}

/** An event type the registry does not know: it cannot be stored or read safely. */
export class UnknownEventTypeError extends Error {
  override name = 'UnknownEventTypeError';

  constructor(readonly eventType: string) {
    super(`Event type "${eventType}" is not registered`);
  }
}
