import { describe, expect, it } from 'vitest';
import { compileExpression, type ExpressionEnv } from '../../agent/rules/expression/expression-compiler.js';
import { ExpressionError, parseExpression } from '../../agent/rules/expression/expression-parser.js';
import { SlidingWindow } from '../../agent/rules/expression/sliding-window.js';

const NAMES = ['a', 'b', 'Vehicle.Speed', 'bus:0_COUNTER'];

function env(values: number[]): ExpressionEnv {
  const ids = new Map(NAMES.map((n, i) => [n, i]));
  return {
    signalId: (name) => ids.get(name),
    signalNames: () => ids.keys(),
    values: Float64Array.from(values),
    clock: { nowUs: 0 },
    profile: { model_year: 2021, fuel_type: 'electric' },
    states: new Map([['fast', parseExpression('Vehicle.Speed > 100')]]),
    window: (_signal, durationUs) => new SlidingWindow(durationUs),
  };
}

function evaluate(text: string, values: number[] = [1, 2, 120, 7]): number {
  return compileExpression(parseExpression(text), env(values)).evaluate();
}

function errorOf(text: string): string {
  try {
    compileExpression(parseExpression(text), env([0, 0, 0, 0]));
  } catch (error) {
    if (error instanceof ExpressionError) return error.message;
    throw error;
  }
  return 'no error';
}

describe('expressions', () => {
  it('follows the usual precedence: not > comparison > and > or; * before +', () => {
    expect(evaluate('a + b * 3')).toBe(7);
    expect(evaluate('(a + b) * 3')).toBe(9);
    expect(evaluate('-a - -b')).toBe(1);
    expect(evaluate('a == 1 or b == 1 and a == 2')).toBe(1); // a == 1 or (b == 1 and a == 2)
    expect(evaluate('not a == 2')).toBe(1); // not (a == 2)
    expect(evaluate('!(a < b) || b % 2 == 0 && true')).toBe(1);
    expect(evaluate('fast and `bus:0_COUNTER` >= 0x7')).toBe(1);
  });

  it('treats unknown values as false in every comparison, and folds profile fields', () => {
    const unknown = [NaN, 2, 120, 7];
    expect(evaluate('a > 0', unknown)).toBe(0);
    expect(evaluate('a <= 0', unknown)).toBe(0);
    expect(evaluate('a != 0', unknown)).toBe(0);
    expect(evaluate('known(a)', unknown)).toBe(0);
    expect(evaluate('known(b)', unknown)).toBe(1);
    const compiled = compileExpression(parseExpression('model_year >= 2020 and fuel_type == "electric"'), env([0, 0, 0, 0]));
    expect(compiled.constant).toBe(1);
    expect(compiled.signals).toEqual([]);
    expect(compileExpression(parseExpression('fast and b > 1'), env([0, 0, 0, 0])).signals).toEqual([2, 1]);
  });

  it('explains what is wrong and where', () => {
    expect(errorOf('a >')).toBe('unexpected end of expression at column 4');
    expect(errorOf('a > b > 3')).toBe("comparisons do not chain: use 'and' before '>' at column 7");
    expect(errorOf('avg(a, 10s) > 1')).toBe('a duration is written as text: "10s" at column 8');
    expect(errorOf('fuel_type > "a"')).toBe("text compares with == or !=, not '>' at column 11");
    expect(errorOf('a == "x"')).toBe('text compares only with a text vehicle field (brand, model, fuel_type, vin) at column 3');
    expect(errorOf('rising(a, b)')).toBe('rising() takes 1 argument, got 2 at column 1');
    expect(errorOf('changed(a, b)')).toBe('changed() deadband must be a number >= 0 at column 12');
    expect(errorOf('max(a + 1, "1s")')).toBe('max() needs a signal name as its first argument at column 5');
    expect(errorOf('a # b')).toBe("unexpected '#' at column 3");
    expect(errorOf('"open')).toBe('unterminated string at column 1');
  });
});
