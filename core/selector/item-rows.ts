// The index's items as rows of value ids (value-ids.ts), one column per label key that some selector reads, all in
// one Int32Array: an update reads and writes one small row in place instead of chasing a map per item, and a new
// selector's scan walks one array.

export class ItemRows {
  /** Row `slot` starts at `slot * stride`. Replaced when it grows: read it afresh after adding rows or columns. */
  data = new Int32Array(0);
  stride = 4;
  private rows = 0;

  /** Makes room for rows up to `slot` and columns up to `column`. */
  ensure(slot: number, column: number): void {
    if (column >= this.stride) {
      this.relayout(Math.max(column + 1, this.stride * 2), Math.max(this.rows, slot + 1));
    } else if (slot >= this.rows) {
      this.relayout(this.stride, Math.max(slot + 1, this.rows * 2, 64));
    }
  }

  base(slot: number): number {
    return slot * this.stride;
  }

  clearRow(slot: number): void {
    const start = slot * this.stride;
    this.data.fill(0, start, start + this.stride);
  }

  private relayout(stride: number, rows: number): void {
    const data = new Int32Array(stride * rows);
    if (stride === this.stride) data.set(this.data);
    else {
      for (let r = 0; r < this.rows; r++) {
        data.set(this.data.subarray(r * this.stride, (r + 1) * this.stride), r * stride);
      }
    }
    this.data = data;
    this.stride = stride;
    this.rows = rows;
  }
}
