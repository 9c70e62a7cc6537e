import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveOptions } from "../../gateway/options.js";
import { checkAppServerOptions, corsFromFlag, serverOptionsFor } from "../../gateway/worker/server-options.js";
import { gatewayErrorMessage } from "../helpers/errors.js";

const refused = (options: unknown): string => gatewayErrorMessage(() => checkAppServerOptions(options));

describe("checkAppServerOptions", () => {
  it("passes the module's options through untouched, unknown keys too", () => {
    const parser = { Encoder: class {}, Decoder: class {} };
    const options = { path: "/realtime", pingInterval: 300, maxHttpBufferSize: 1e6, transports: ["websocket"], parser, wsEngine: class {} };
    assert.equal(checkAppServerOptions(options), options);
    assert.deepEqual(checkAppServerOptions(undefined), {});
  });

  it("refuses adapter, naming it", () => {
    assert.match(refused({ adapter: class {} }), /^invalid option "options\.adapter": the gateway owns the adapter/);
  });

  it("refuses options of the wrong type, naming options.<name>, what it expects and what it got", () => {
    assert.match(refused("fast"), /^invalid option "options": expected an object of Socket\.IO server options/);
    assert.match(refused({ pingTimeout: 0 }), /"options\.pingTimeout": expected a duration in ms \(integer > 0\), got "0"/);
    assert.match(refused({ connectTimeout: 1.5 }), /"options\.connectTimeout"/);
    assert.match(refused({ maxHttpBufferSize: "1mb" }), /"options\.maxHttpBufferSize": expected a size in bytes/);
    assert.match(refused({ path: "socket" }), /"options\.path": expected a path starting with \//);
    assert.match(refused({ transports: [] }), /"options\.transports": expected a non-empty array/);
    assert.match(refused({ transports: ["polling", "smoke-signals"] }), /"options\.transports"/);
    assert.match(refused({ parser: { Encoder: class {} } }), /"options\.parser": expected a parser module with Encoder and Decoder/);
    assert.match(refused({ perMessageDeflate: "yes" }), /"options\.perMessageDeflate": expected true, false or an options object/);
    assert.match(
      refused({ connectionStateRecovery: { maxDisconnectionDuration: -1 } }),
      /"options\.connectionStateRecovery\.maxDisconnectionDuration": expected a duration in ms/,
    );
  });
});

describe("serverOptionsFor", () => {
  const module = { pingInterval: 300, cors: { origin: "https://app.example" }, cookie: { name: "app" } };

  it("keeps the module's cors and cookie when the operator gives no flag", () => {
    assert.deepEqual(serverOptionsFor(module, resolveOptions({})), module);
  });

  it("lets --cors-origin and --cookie replace the module's, without touching the module's object", () => {
    const options = serverOptionsFor(module, resolveOptions({ corsOrigin: ["https://ops.example"], cookie: "io" }));
    assert.deepEqual(options.cors, { origin: ["https://ops.example"], credentials: true });
    assert.equal((options.cookie as { name: string }).name, "io");
    assert.equal(options.pingInterval, 300);
    assert.deepEqual(module.cors, { origin: "https://app.example" });
  });

  it("--cors-origin '*' allows any origin (a plain string: the cors package reads '*' in an array as a literal origin)", () => {
    assert.deepEqual(corsFromFlag(["*"]), { origin: "*" });
    assert.deepEqual(corsFromFlag(["https://a.example", "https://b.example"]), { origin: ["https://a.example", "https://b.example"], credentials: true });
  });
});
