/**
 * Beacon's one loopback rule: `localhost`, any 127.0.0.0/8 address, and `::1` (bare or in
 * brackets, as `URL.hostname` gives it). Matching is exact and case-insensitive; a name that
 * merely starts like one (`localhost.example.com`, `127.0.0.1.nip.io`) is not loopback.
 * Records' URLs, the instance's Host and Origin check, and the dev-server URLs found in a
 * script's output all use it.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host === '[::1]' || host === '::1') return true;
  const octets = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return octets?.slice(1).every((octet) => Number(octet) <= 255) ?? false;
}
