import { errorText } from './error-text';

describe('errorText', () => {
  it("is an error's message", () => {
    expect(errorText(new Error('connection reset'))).toBe('connection reset');
  });

  it('falls back to the code, then the name, when the message is empty', () => {
    const refused = Object.assign(new AggregateError([], ''), { code: 'ECONNREFUSED' });
    expect(errorText(refused)).toBe('ECONNREFUSED');
    expect(errorText(new TypeError())).toBe('TypeError');
  });

  it('reads error-like objects from another realm, and other values as strings', () => {
    expect(errorText({ name: 'Error', message: 'from a VM' })).toBe('from a VM');
    expect(errorText('down')).toBe('down');
    expect(errorText(undefined)).toBe('undefined');
    expect(errorText({})).toBe('[object Object]');
  });
});
