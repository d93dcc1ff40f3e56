/**
 * The deliveries of one channel that are neither acknowledged nor rejected yet, by delivery tag.
 * A batch is acknowledged with one `multiple` ack (one frame, and one settle command in a quorum
 * queue's log, instead of one per message) only when it holds every unsettled delivery up to its
 * last tag: a delivery of the next batch, or one still on its way to a retry or dead-letter queue,
 * is never acknowledged by accident.
 */
export class UnsettledDeliveries {
  private readonly tags = new Set<number>();

  received(tag: number): void {
    this.tags.add(tag);
  }

  /**
   * How to acknowledge these tags, and forgets them: `upTo`, one ack of every delivery up to that
   * tag; or `each`, the tags one by one, when another unsettled delivery lies among them.
   */
  settle(tags: readonly number[]): { upTo: number } | { each: readonly number[] } {
    const last = Math.max(...tags);
    const settling = new Set(tags);
    let covers = true;
    for (const tag of this.tags) {
      if (tag <= last && !settling.has(tag)) {
        covers = false;
        break;
      }
    }
    for (const tag of tags) this.tags.delete(tag);
    return covers ? { upTo: last } : { each: tags };
  }
}
