import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HeadScanner, type ScanStep } from "../../gateway/primary/head-scanner.js";

/** Feeds `text` in pieces of `size` bytes; returns every step that was not "more", in order. */
function scan(text: string, size: number): ScanStep[] {
  const bytes = Buffer.from(text, "latin1");
  const scanner = new HeadScanner();
  const steps: ScanStep[] = [];
  for (let i = 0; i < bytes.length; i += size) {
    const step = scanner.push(bytes.subarray(i, i + size));
    if (step.kind !== "more") steps.push(step);
    if (step.kind === "head-end" || step.kind === "not-http") break;
  }
  return steps;
}

describe("HeadScanner", () => {
  const head = `GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: a\r\nX-Pad: ${"x".repeat(16_000)}\r\n\r\n`;
  const lineEnd = head.indexOf("\r\n");

  it("finds the line end and the head end wherever the chunks split them, one byte at a time included", () => {
    for (const size of [1, 2, 3, 5, 7, 64, 1500, head.length]) {
      const steps = scan(`${head}BODY`, size);
      const expected: ScanStep[] = size === head.length ? [] : [{ kind: "line-end", lineEnd }];
      expected.push({ kind: "head-end", headEnd: head.length });
      assert.deepEqual(steps, expected, `chunks of ${size}`);
    }
  });

  it("finds a head without headers", () => {
    assert.deepEqual(scan("GET / HTTP/1.1\r\n\r\n", 1), [
      { kind: "line-end", lineEnd: 14 },
      { kind: "head-end", headEnd: 18 },
    ]);
  });

  it("says not-http as soon as the first bytes cannot start a request line", () => {
    assert.deepEqual(scan("\x16\x03\x01\x02", 1), [{ kind: "not-http" }]);
    assert.deepEqual(scan("hello there\r\n\r\n", 1), [{ kind: "not-http" }]);
    assert.deepEqual(scan("GET / HTTP/1.1", 1), []);
  });
});
