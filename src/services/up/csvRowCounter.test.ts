import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CsvRowCounter, absoluteErrorsOf } from './csvRowCounter.js';

describe('absoluteErrorsOf', () => {
  it('takes the last field of each line, skipping the header and fields that are not numbers', () => {
    const text =
      'id,y_true,y_pred,absolute_error\n' +
      'a-1,151,150.5,0.5\r\n' +
      '"x,y",1,3,2\n' +
      "'=cmd,1,2,1e-3\n" +
      'broken line\n' +
      'b,1,2,\n' +
      'c,1,2,NaN\n' +
      '7,1,2.25,1.25';
    expect(absoluteErrorsOf(text)).toEqual([0.5, 2, 0.001, 1.25]);
  });
});

describe('CsvRowCounter', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'predstream-rowcounter-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('counts only rows appended after its first look, and hands on their errors once each', async () => {
    const file = path.join(dir, 'old.csv');
    writeFileSync(file, 'id,y_true,y_pred,absolute_error\nold,1,2,1\n');
    const seen: number[] = [];
    const counter = new CsvRowCounter(file, (e) => seen.push(...e));
    expect(await counter.poll()).toBe(0);
    appendFileSync(file, 'n1,1,4,3\nn2,2,2.5,0.');
    expect(await counter.poll()).toBe(1); // the second line is not complete yet
    appendFileSync(file, '5\n');
    expect(await counter.poll()).toBe(2);
    expect(await counter.poll()).toBe(2);
    expect(seen).toEqual([3, 0.5]);
  });

  it('skips the header of a file created after it started', async () => {
    const file = path.join(dir, 'new.csv');
    const seen: number[] = [];
    const counter = new CsvRowCounter(file, (e) => seen.push(...e));
    expect(await counter.poll()).toBe(0);
    writeFileSync(file, 'id,y_true,y_pred,absolute_error\nz,1,1,0\nü,2,1,1\n');
    expect(await counter.poll()).toBe(2);
    expect(seen).toEqual([0, 1]);
  });
});
