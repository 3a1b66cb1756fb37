/**
 * What a key template's filter does to a field's text. Filters make the spellings of one
 * identifier (`Alice@Example.com`, ` alice@example.com`, `alıce@example.com`...) count as one
 * key, so that an attacker cannot multiply a limit by spelling a target differently.
 */
export type TextFilter = (text: string) => string;

/** Unicode compatibility normalisation: `ｆｕｌｌ` → `full`, `ﬁ` → `fi`, `K` (Kelvin) → `K`. */
const nfkc: TextFilter = (text) => text.normalize('NFKC');

/** Leading and trailing white space (Unicode: spaces, tabs, line breaks, no-break spaces). */
const trim: TextFilter = (text) => text.trim();

/**
 * Case-insensitive, whatever the server's locale: NFKC, lower case, upper case, lower case,
 * NFKC. The trip through upper case makes one of the spellings that case-insensitive
 * comparisons (`toUpperCase`, `_ci` database collations) treat as one: the dotless `ı` and the
 * long `ſ` upper-case to `I` and `S`, `ß` and `ẞ` to `SS`; NFKC turns the Kelvin sign into `K`
 * and full-width letters into ASCII. The locale-independent mappings are used on purpose: a
 * Turkish locale would lower-case `I` to `ı` on one server and not on another.
 */
const lower: TextFilter = (text) =>
  text.normalize('NFKC').toLowerCase().toUpperCase().toLowerCase().normalize('NFKC');

/** Every filter by name. `email` is the one to use for e-mail addresses and user names. */
export const TEXT_FILTERS: Readonly<Record<string, TextFilter>> = {
  nfkc,
  trim,
  lower,
  email: (text) => lower(trim(nfkc(text))),
};

/** The IPv6 grouping filter, `v6/56`: IPv6 clients counted by their /56 network. */
export const IPV6_FILTER = /^v6\/(\d{1,3})$/;

/** The filter names, for messages. */
export const FILTER_NAMES = [...Object.keys(TEXT_FILTERS), 'v6/N'];
