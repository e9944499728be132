// Running sum with Neumaier compensation, so a mean over millions of rows keeps its last digits.

/** A sum that stays accurate over many terms of mixed magnitude (Neumaier's variant of Kahan summation). */
export class CompensatedSum {
  private sum = 0;
  private compensation = 0;

  add(value: number): void {
    const t = this.sum + value;
    // Whichever operand is larger in magnitude keeps its bits; recover the ones the smaller lost.
    if (Math.abs(this.sum) >= Math.abs(value)) this.compensation += this.sum - t + value;
    else this.compensation += value - t + this.sum;
    this.sum = t;
  }

  get value(): number {
    return this.sum + this.compensation;
  }

  reset(): void {
    this.sum = 0;
    this.compensation = 0;
  }
}
