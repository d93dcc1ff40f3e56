/**
 * Lookups by key asked for in the same turn of the event loop (the placements of a group commit,
 * the messages of a consumer batch), answered by one read for all their keys: `read` gets the
 * distinct keys and returns what it found, by key. A failed read fails every lookup it served.
 */
export class LookupsTogether<Key, Found> {
  private pending?: { keys: Map<string, Key>; found: Promise<Map<string, Found>> };

  constructor(
    private readonly idOf: (key: Key) => string,
    private readonly read: (keys: Key[]) => Promise<Map<string, Found>>,
  ) {}

  async find(key: Key): Promise<Found | undefined> {
    if (!this.pending) {
      const keys = new Map<string, Key>();
      const found = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        this.pending = undefined;
        return this.read([...keys.values()]);
      });
      this.pending = { keys, found };
    }
    const id = this.idOf(key);
    this.pending.keys.set(id, key);
    return (await this.pending.found).get(id);
  }
}
