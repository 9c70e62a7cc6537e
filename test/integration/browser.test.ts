/**
 * The demo chat page in a real headless Chromium, against the gateway (2 workers, private
 * Redis). The pages reach different workers by a forwarded address (the gateway trusts
 * 127.0.0.1), so what one types crosses workers to the other.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { DemoPageRig, forwardedFor } from "../helpers/demo-page.js";

const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));
const XSS = "<img src=x onerror=alert(1)>";

async function waitText(page: Page, selector: string, text: string | RegExp): Promise<void> {
  await page.locator(selector).filter({ hasText: text }).first().waitFor({ timeout: 10_000 });
}

describe("demo chat page in Chromium", () => {
  const rig = new DemoPageRig();
  const dialogs: string[] = [];

  before(() => rig.start());
  after(() => rig.stop());

  async function openPage(worker: number, query = ""): Promise<Page> {
    const context = await rig.browser.newContext({ extraHTTPHeaders: { "X-Forwarded-For": forwardedFor(worker) }, viewport: { width: 1100, height: 700 } });
    const page = await context.newPage();
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(`${rig.gateway.url}/${query}`);
    await waitText(page, "#state", "connected");
    await waitText(page, "#worker", new RegExp(`^${worker} `));
    return page;
  }

  async function join(page: Page, name: string, room: string): Promise<void> {
    await page.fill("#name", name);
    await page.fill("#room", room);
    await page.click("#join");
    await waitText(page, "#current-room", room);
  }

  async function say(page: Page, text: string): Promise<void> {
    await page.fill("#text", text);
    await page.click("#send");
  }

  for (const [label, query] of [
    ["WebSocket", ""],
    ["long-polling only", "?transport=polling"],
  ] as const) {
    it(`two pages chat across workers, member counts follow (second page on ${label})`, async () => {
      const room = `room-${query ? "polling" : "ws"}`;
      const alice = await openPage(0);
      const bob = await openPage(1, query);
      try {
        await waitText(alice, "#transport", "websocket");
        await waitText(bob, "#transport", query ? "polling" : "websocket");

        await join(alice, "Alice", room);
        await waitText(alice, "#members", /^1$/);
        await join(bob, "Bob", room);
        await waitText(bob, "#members", /^2$/);
        await waitText(alice, "#members", /^2$/);

        await say(alice, "hello from worker 0");
        await waitText(bob, "#messages .message:not(.system)", "hello from worker 0");
        await say(bob, "안녕하세요 from worker 1");
        await waitText(alice, "#messages .message:not(.system)", "안녕하세요 from worker 1");
        await waitText(alice, "#messages .meta", /^Bob · worker 1/);

        await say(alice, XSS);
        await waitText(bob, "#messages .message", XSS);
        assert.equal(await bob.locator("#messages img").count(), 0, "a message became HTML");
        assert.deepEqual(dialogs, []);

        if (!query) {
          mkdirSync(ARTIFACTS, { recursive: true });
          await alice.screenshot({ path: `${ARTIFACTS}chat.png`, fullPage: true });
        }

        await bob.click("#leave");
        await waitText(bob, "#current-room", "none");
        await waitText(alice, "#members", /^1$/);
      } finally {
        await alice.context().close();
        await bob.context().close();
      }
    });
  }

  it("a page whose worker is killed comes back recovered: same room, no re-join, the messages sent meanwhile shown", async () => {
    const alice = await openPage(0);
    const bob = await openPage(1);
    try {
      await join(alice, "Alice", "recover");
      await join(bob, "Bob", "recover");
      await waitText(alice, "#members", /^2$/);
      await waitText(alice, "#session", "new session");
      const pid = Number(/pid (\d+)/.exec(await alice.locator("#worker").innerText())![1]);
      process.kill(pid, "SIGKILL");
      await say(bob, "sent while Alice was away");
      await waitText(alice, "#session", "recovered");
      await waitText(alice, "#messages .message.system", "session recovered");
      await waitText(alice, "#messages .message:not(.system)", "sent while Alice was away");
      await waitText(alice, "#current-room", "recover");
      // Exactly once: recovery replayed it, nothing delivered it a second time.
      assert.equal(await alice.locator("#messages .message:not(.system)").filter({ hasText: "sent while Alice was away" }).count(), 1);
      assert.deepEqual(dialogs, []);
    } finally {
      await alice.context().close();
      await bob.context().close();
    }
  });

  it("shows the server's refusal instead of swallowing it", async () => {
    const page = await openPage(0);
    try {
      await page.fill("#name", "Eve");
      await page.fill("#room", "x".repeat(64));
      // Bypass the input's maxlength, as a hand-crafted client would.
      await page.evaluate(() => ((document.getElementById("room") as HTMLInputElement).value = "y".repeat(65)));
      await page.click("#join");
      await waitText(page, "#error", /room must be a non-empty string of at most 64 characters/);
    } finally {
      await page.context().close();
    }
  });
});
