/**
 * A k-way merge of paginated streams that are each in ascending order: the merged items in
 * ascending order, reading each stream one page at a time (the first pages concurrently), so
 * that memory stays O(streams × page size) whatever the streams' length. Stops reading the
 * streams (return()) when the consumer stops early.
 */

export type Compare<T> = (a: T, b: T) => number;

/** A stream's current page and how far into it the merge is. */
interface Head<T> {
  readonly pages: AsyncIterator<readonly T[]>;
  page: readonly T[];
  index: number;
}

/** The stream's next non-empty page as its head; null once it is exhausted. */
async function nextHead<T>(pages: AsyncIterator<readonly T[]>): Promise<Head<T> | null> {
  for (;;) {
    const next = await pages.next();
    if (next.done === true) return null;
    if (next.value.length > 0) return { pages, page: next.value, index: 0 };
  }
}

export async function* mergeSortedPages<T>(streams: readonly AsyncIterable<readonly T[]>[], compare: Compare<T>): AsyncGenerator<T> {
  const iterators = streams.map((stream) => stream[Symbol.asyncIterator]());
  try {
    const first = await Promise.all(iterators.map((pages) => nextHead(pages)));
    const heap = new MinHeap<Head<T>>((a, b) => compare(a.page[a.index]!, b.page[b.index]!));
    for (const head of first) if (head !== null) heap.push(head);
    for (let head = heap.pop(); head !== undefined; head = heap.pop()) {
      yield head.page[head.index]!;
      head.index += 1;
      const refilled = head.index < head.page.length ? head : await nextHead(head.pages);
      if (refilled !== null) heap.push(refilled);
    }
  } finally {
    await Promise.all(iterators.map((pages) => pages.return?.()));
  }
}

/**
 * Pages in ascending order of `runKey` only (a DynamoDB index orders equal sort keys as it
 * likes) as pages in ascending `compare` order, where compare refines runKey: each page is
 * sorted, and its last run (the items sharing the last runKey) is held back until a page
 * starts with another key, because the run may continue there. Holds at most one run beyond
 * a page.
 */
export async function* refineOrder<T>(pages: AsyncIterable<readonly T[]>, runKey: (item: T) => string, compare: Compare<T>): AsyncGenerator<T[]> {
  let held: T[] = [];
  for await (const page of pages) {
    if (page.length === 0) continue;
    const items = [...held, ...page].sort(compare);
    const lastKey = runKey(items[items.length - 1]!);
    const cut = items.findIndex((item) => runKey(item) === lastKey);
    held = items.slice(cut);
    if (cut > 0) yield items.slice(0, cut);
  }
  if (held.length > 0) yield held;
}

/** A binary min-heap: the merge takes the smallest head among k streams in O(log k). */
class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly compare: Compare<T>) {}

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.compare(items[i]!, items[parent]!) >= 0) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private siftDown(start: number): void {
    const items = this.items;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < items.length && this.compare(items[left]!, items[smallest]!) < 0) smallest = left;
      if (right < items.length && this.compare(items[right]!, items[smallest]!) < 0) smallest = right;
      if (smallest === i) return;
      [items[i], items[smallest]] = [items[smallest]!, items[i]!];
      i = smallest;
    }
  }
}
