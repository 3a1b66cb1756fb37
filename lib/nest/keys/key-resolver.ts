import type { KeyFunction } from '../decorators/rate-limit-options.interface';
import type { KeySource } from './key-source';
import { escapeValue, keyValue, MISSING_FIELD_PLACEHOLDER } from './key-template';
import { isPromiseLike, describeValue } from '../limits/call-values';

/** One layer's identifier for one call, and what went wrong computing it. */
export interface KeyOutcome {
  /** The identifier (undefined: the limiter's shared bucket). */
  readonly key: string | undefined;
  /** Template placeholders that were missing (counted as {@link MISSING_FIELD_PLACEHOLDER}). */
  readonly missing?: readonly string[];
  /** Why a key function's answer was not used (the call is counted under the placeholder). */
  readonly problem?: string;
}

/**
 * Computes one layer's identifier. Synchronous for templates and for key functions that answer
 * at once (no promise on that path); a promise only when a key function returns one. Never
 * throws or rejects.
 */
export type KeyResolver = (source: KeySource) => KeyOutcome | Promise<KeyOutcome>;

/**
 * The resolver of a {@link KeyFunction}. Its answer follows the template rules: a string, a
 * finite number, a boolean or a bigint is the identifier, escaped as a template's value is (so
 * that no answer is read as the placeholder `-`); `''` or undefined is the shared bucket;
 * anything else, a throw or a rejection is counted under the placeholder, with the reason.
 */
export function keyFunctionResolver(fn: KeyFunction): KeyResolver {
  return (source) => {
    let answer: unknown;
    try {
      answer = fn(source.context);
    } catch (err) {
      return placeholder(`the key function threw ${describeValue(err)}`);
    }
    if (!isPromiseLike(answer)) return keyOf(answer);
    return Promise.resolve(answer).then(keyOf, (err: unknown) =>
      placeholder(`the key function's promise rejected with ${describeValue(err)}`),
    );
  };
}

function keyOf(answer: unknown): KeyOutcome {
  if (answer === undefined || answer === '') return { key: undefined };
  const text = keyValue(answer);
  if (text === undefined) {
    return placeholder(`the key function returned ${describeValue(answer)}, not a string`);
  }
  return { key: escapeValue(text, '') };
}

function placeholder(problem: string): KeyOutcome {
  return { key: MISSING_FIELD_PLACEHOLDER, problem };
}
