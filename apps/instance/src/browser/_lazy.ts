// The heavy parts of the browser half, loaded when first used: the page proxy (undici, ws) at
// the first URL a run prints, the source mapper at the first page error with a stack. An
// instance whose runs print no URL never loads either (bench/instance-memory.mjs).

import type { PageProxy, startPageProxy as StartPageProxy } from './proxy.js';
import type { SourceMapper } from './sourcemap.js';
import type { SourceFrame } from './store.js';

/** {@link StartPageProxy}, with its module loaded at the first call. */
export async function startPageProxyLazily(
  ...args: Parameters<typeof StartPageProxy>
): Promise<PageProxy> {
  const { startPageProxy } = await import('./proxy.js');
  return startPageProxy(...args);
}

/** A {@link SourceMapper} whose module is loaded at the first {@link map}. */
export class LazySourceMapper {
  #mapper: Promise<SourceMapper> | undefined;
  readonly #args: ConstructorParameters<typeof SourceMapper>;

  constructor(...args: ConstructorParameters<typeof SourceMapper>) {
    this.#args = args;
  }

  async map(stack: string): Promise<SourceFrame[]> {
    this.#mapper ??= import('./sourcemap.js').then(
      ({ SourceMapper }) => new SourceMapper(...this.#args),
    );
    return (await this.#mapper).map(stack);
  }
}
