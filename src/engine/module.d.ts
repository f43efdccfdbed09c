/** The compiled translation engine (wasm/nat64_engine.wasm). */
declare const engineModule: WebAssembly.Module;
export default engineModule;
