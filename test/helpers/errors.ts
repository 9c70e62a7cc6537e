import assert from "node:assert/strict";
import { GatewayError } from "../../common/errors.js";

/** The message of the GatewayError (with `code`) that `action` throws; fails the test when it throws none. */
export function gatewayErrorMessage(action: () => unknown, code = "ERR_INVALID_OPTION"): string {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof GatewayError, `expected a GatewayError, got ${String(error)}`);
    assert.equal(error.code, code);
    return error.message;
  }
  assert.fail("expected a GatewayError, but nothing was thrown");
}
