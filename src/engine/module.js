// @ts-self-types="./module.d.ts"
// The compiled engine, as a WebAssembly.Module (a source-phase import, so each Engine can
// be its own instance and `deno compile` embeds the bytes). Plain JavaScript because the
// type checker does not parse source-phase imports yet; module.d.ts gives the type.
import source engineModule from "../../wasm/nat64_engine.wasm";

export default engineModule;
