/**
 * Lookups by key answered together, the way a group commit writes: lookups asked in one turn of
 * the event loop share one read of their distinct keys, and lookups asked while a read is in
 * flight wait for it and share the next. There is no timer: alone, a lookup is read at once; under
 * load, one read serves all that arrived meanwhile. `read` gets the distinct keys and returns what
 * it found, by key. A failed read fails every lookup it served, and only those.
 */
export class LookupsTogether<Key, Found> {
  private next?: { keys: Map<string, Key>; found: Promise<Map<string, Found>> };
  private reading?: Promise<void>;

  constructor(
    private readonly idOf: (key: Key) => string,
    private readonly read: (keys: Key[]) => Promise<Map<string, Found>>,
  ) {}

  async find(key: Key): Promise<Found | undefined> {
    this.next ??= this.gather();
    const id = this.idOf(key);
    this.next.keys.set(id, key);
    return (await this.next.found).get(id);
  }

  private gather() {
    const keys = new Map<string, Key>();
    const begin = this.reading ?? new Promise<void>((resolve) => setImmediate(resolve));
    const found = begin.then(() => {
      this.next = undefined;
      const read = this.read([...keys.values()]);
      const settled = read.then(
        () => undefined,
        () => undefined,
      );
      this.reading = settled;
      void settled.then(() => {
        if (this.reading === settled) this.reading = undefined;
      });
      return read;
    });
    return { keys, found };
  }
}
