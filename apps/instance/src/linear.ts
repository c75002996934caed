import { RE2JS } from 're2js';

/** A regular expression run on the linear-time RE2 engine: no input can make it backtrack. */
export interface LinearPattern {
  test(text: string): boolean;
  /** The match and its groups (undefined for a group that did not take part), or null. */
  exec(text: string): (string | undefined)[] | null;
}

/**
 * `pattern` compiled for RE2 (its source and `i` flag; RE2 syntax, so no backreferences or
 * lookaround). With `needle`, a line that does not contain it is a miss without running the
 * engine: most output lines are misses, and a substring search is far cheaper.
 */
export function linear(pattern: RegExp, needle?: string): LinearPattern {
  const compiled = RE2JS.compile(pattern.source, pattern.ignoreCase ? RE2JS.CASE_INSENSITIVE : 0);
  const miss = (text: string) => needle !== undefined && !text.includes(needle);
  return {
    test: (text) => !miss(text) && compiled.matcher(text).find(),
    exec(text) {
      if (miss(text)) return null;
      const m = compiled.matcher(text);
      if (!m.find()) return null;
      const groups: (string | undefined)[] = [];
      for (let g = 0; g <= m.groupCount(); g++) groups.push(m.group(g) ?? undefined);
      return groups;
    },
  };
}
