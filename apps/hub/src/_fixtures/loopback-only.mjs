// Runs a server program with every numeric-port listen bound to 127.0.0.1: the MCP Apps example
// server binds all interfaces on its own, and a test must not open a port to the network.
// Usage: node loopback-only.mjs <program.js> [args...]
import net from 'node:net';
import { pathToFileURL } from 'node:url';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (port, ...rest) {
  if (typeof port !== 'number' && typeof port !== 'string') return listen.call(this, port, ...rest);
  const callback = rest.find((arg) => typeof arg === 'function');
  return listen.call(this, Number(port), '127.0.0.1', callback);
};
const [program, ...args] = process.argv.slice(2);
process.argv = [process.argv[0], program, ...args];
await import(pathToFileURL(program).href);
