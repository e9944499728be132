import { describe, expect, it } from 'vitest';
import { idKey } from '../../contract/wire.js';
import { formatOkLine, formatSentLine, parsePublishedLogLine } from './publishedLog.js';

const parseFormatted = (text: string) => parsePublishedLogLine(text.replace(/\n$/, ''));

describe('published log lines', () => {
  it('reads back what it writes, for number ids and for string ids with spaces and digits', () => {
    for (const id of [151, 1.5, 'mi3k9x2a0q7fz-12', 'a b 3 4', '7']) {
      expect(parseFormatted(formatSentLine(idKey(id), 42, 1_764_000_000_123))).toEqual({
        kind: 'sent',
        idJson: idKey(id),
        row: 42,
        publishedAtMs: 1_764_000_000_123,
      });
      expect(parseFormatted(formatOkLine(idKey(id)))).toEqual({ kind: 'ok', idJson: idKey(id) });
    }
  });

  it('reads the older two-field sent line, without a time', () => {
    expect(parsePublishedLogLine('sent "x-1" 3')).toEqual({
      kind: 'sent',
      idJson: '"x-1"',
      row: 3,
      publishedAtMs: undefined,
    });
    expect(parsePublishedLogLine('sent 151 3')).toMatchObject({ idJson: '151', row: 3 });
  });

  it('refuses lines of neither form, such as a torn one', () => {
    for (const line of ['', 'sent', 'sent "x-1"', 'sen "x-1" 3', 'okay "x"', 'sent "x-1" row']) {
      expect(parsePublishedLogLine(line), line).toBeUndefined();
    }
  });
});
