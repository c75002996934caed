// Errors a framework catches itself and reports through `console.error` rather than letting them
// reach window.onerror: React 19 (errors caught by an error boundary, recoverable errors such as
// hydration mismatches) and Next.js's dev overlay pass the Error object itself to console.error.
// Such an Error is reported as a page error with the stack it carries, once: the same object
// seen again (through console.error twice, or through reportError / window.onerror as well) is
// not counted again.

/** Arguments of one console.error call looked at for errors. */
export const CONSOLE_ERROR_ARGS = 8;

/**
 * Source spliced into the page script's closure, where `send`, `cut` and `text` are defined:
 * `firstReport(value)` (false once an object was reported) and `consoleErrors(args)`, called
 * for each console.error. Neither throws.
 */
export const consoleErrorsSource = `
  const reported = new WeakSet();
  const firstReport = (v) => {
    try {
      if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return true;
      if (reported.has(v)) return false;
      reported.add(v);
    } catch (e) {}
    return true;
  };
  const errorLike = (v) => {
    try {
      return v instanceof Error || (v !== null && typeof v === 'object' && typeof v.message === 'string' && typeof v.stack === 'string');
    } catch (e) { return false; }
  };
  const HYDRATION = /hydrat(?:ed|ion)\\b[^]{0,200}\\b(?:match|mismatch|differ)/i;
  const consoleErrors = (args) => {
    try {
      const n = Math.min(args.length, ${CONSOLE_ERROR_ARGS});
      let found = false;
      for (let i = 0; i < n; i++) {
        const v = args[i];
        if (!errorLike(v)) continue;
        found = true;
        if (!firstReport(v)) continue;
        send({ type: 'error', via: 'console', message: cut(String(v.name || 'Error') + ': ' + String(v.message), 2000), stack: text(v) });
      }
      // React's hydration warnings without an Error object (an attribute that differs).
      const first = args[0];
      if (!found && typeof first === 'string' && HYDRATION.test(first.slice(0, 400)))
        send({ type: 'error', via: 'console', message: cut(first.split('\\n')[0], 2000), stack: '' });
    } catch (e) {}
  };
`;
