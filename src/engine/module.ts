/**
 * The compiled engine as a `WebAssembly.Module`. The bytes come in through a bytes
 * import, so they are part of the module graph: `deno compile` embeds them and nothing
 * is read from disk at run time. Compiled once; each `Engine` instantiates its own copy.
 *
 * @module
 */

import bytes from "../../wasm/nat64_engine.wasm" with { type: "bytes" };

/** The translation engine built from `wasm/` by `scripts/build-wasm`. */
export const engineModule: WebAssembly.Module = new WebAssembly.Module(bytes);
