// The index's items as value ids (value-ids.ts), one column per label key that some selector reads, kept twice:
//  - by row, all in one Int32Array: an update reads the item's whole row from one place (one cache line, where a
//    map per item or an array per column would each be another wait on memory);
//  - by column, an Int32Array each: a new selector's scan walks its filing column contiguously.
// Writes go to both (`set`); an update's reads use the rows, a scan the columns.

export class ItemRows {
  /** Row `slot` starts at `slot * stride`. Replaced when it grows: read it afresh after adding rows or columns. */
  data = new Int32Array(0);
  stride = 4;
  /** By column, by slot. Replaced when they grow, like `data`. */
  readonly byColumn: Int32Array[] = [];
  private rows = 0;

  /** Makes room for rows up to `slot` and columns up to `column`. */
  ensure(slot: number, column: number): void {
    if (column >= this.stride) {
      this.relayout(Math.max(column + 1, this.stride * 2), Math.max(this.rows, slot + 1));
    } else if (slot >= this.rows) {
      this.relayout(this.stride, Math.max(slot + 1, this.rows * 2, 64));
    }
    while (this.byColumn.length <= column) this.byColumn.push(new Int32Array(this.rows));
  }

  base(slot: number): number {
    return slot * this.stride;
  }

  set(slot: number, column: number, id: number): void {
    this.data[slot * this.stride + column] = id;
    this.byColumn[column]![slot] = id;
  }

  clearRow(slot: number): void {
    const start = slot * this.stride;
    this.data.fill(0, start, start + this.stride);
    for (const ids of this.byColumn) ids[slot] = 0;
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
    if (rows !== this.rows) {
      this.byColumn.forEach((ids, c) => {
        const grown = new Int32Array(rows);
        grown.set(ids);
        this.byColumn[c] = grown;
      });
    }
    this.rows = rows;
  }
}
