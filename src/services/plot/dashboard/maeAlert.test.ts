import { describe, expect, it } from 'vitest';
import { alertMessage, formatAgainst, MaeAlert } from './maeAlert.js';

describe('MaeAlert', () => {
  it('never fires without a threshold, but still reports the value', () => {
    const alert = new MaeAlert(undefined);
    expect(alert.observe(1e9, 1)).toBeUndefined();
    expect(alert.status).toEqual({ threshold: null, active: false, since: null, value: 1e9 });
  });

  it('raises once when the value goes above, clears once when it falls back to or below the threshold', () => {
    const alert = new MaeAlert(50);
    const seen = [40, 50, 50.01, 60, 55, 50, 49, 51].map((v, i) => alert.observe(v, 1000 + i));
    expect(seen).toEqual([
      undefined,
      undefined,
      'raised',
      undefined,
      undefined,
      'cleared',
      undefined,
      'raised',
    ]);
    expect(alert.status).toEqual({ threshold: 50, active: true, since: 1007, value: 51 });
  });

  it('keeps the time it was raised while it stays raised', () => {
    const alert = new MaeAlert(1);
    alert.observe(2, 100);
    alert.observe(3, 200);
    expect(alert.status.since).toBe(100);
    alert.observe(0.5, 300);
    expect(alert.status.since).toBeNull();
  });

  it('clears when the window is empty (NaN after a reset) and does not raise on it', () => {
    const alert = new MaeAlert(10);
    expect(alert.observe(NaN, 1)).toBeUndefined();
    expect(alert.observe(20, 2)).toBe('raised');
    expect(alert.observe(NaN, 3)).toBe('cleared');
    expect(alert.status.value).toBeNull();
  });

  it('rejects a threshold that is not a positive finite number', () => {
    for (const bad of [0, -1, NaN, Infinity]) expect(() => new MaeAlert(bad)).toThrow(/--alert-mae/);
  });
});

describe('alert messages', () => {
  it('print the value with enough digits to differ from the threshold', () => {
    expect(formatAgainst(45.047, 45)).toBe('45.05');
    expect(formatAgainst(58.83, 45)).toBe('58.8');
    expect(formatAgainst(45.0000001, 45)).toBe('45');
    expect(formatAgainst(44.996, 45)).toBe('44.996');
  });

  it('name the value, the window and the option on each change', () => {
    const alert = new MaeAlert(45);
    alert.observe(45.047, 1);
    expect(alertMessage('raised', alert.status, 1000)).toBe(
      'alert: rolling MAE 45.05 over the last 1000 rows is above --alert-mae 45',
    );
    alert.observe(30, 2);
    expect(alertMessage('cleared', alert.status, 1000)).toMatch(
      /rolling MAE 30 .* back at or below --alert-mae 45/,
    );
    alert.observe(50, 3);
    alert.observe(NaN, 4);
    expect(alertMessage('cleared', alert.status, 0)).toMatch(/reset/);
  });
});
