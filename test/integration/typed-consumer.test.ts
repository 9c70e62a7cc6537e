/**
 * The package as a TypeScript user gets it: `npm pack`, installed into an empty project with
 * its dependencies from the registry (nothing else), and a strict `nodenext` ESM app module
 * written with `defineApp<...>` type-checks with the repo's TypeScript; a deliberately wrong one
 * fails on exactly the lines marked WRONG (so the types are real, not `any`). Needs `npm run build`.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { waitUntil } from "../helpers/wait.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const SAMPLES = fileURLToPath(new URL("../fixtures/typed-consumer/", import.meta.url));
const TSC = join(REPO, "node_modules/typescript/bin/tsc");

interface Run {
  code: number;
  output: string;
}

/** Runs a command to its end (bounded by `timeout` ms); resolves with its exit code and output, whatever the code. */
function run(file: string, args: string[], cwd: string, timeout: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, timeout, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") return reject(new Error(`${file} ${args.join(" ")}: ${error.message}\n${stderr}`));
      resolve({ code: typeof error?.code === "number" ? error.code : 0, output: `${stdout}${stderr}` });
    });
  });
}

/** Copies a sample (`NAME.mts.txt`) into the project as `NAME.mts`, with a tsconfig that checks it alone; returns the tsconfig's name. */
async function addSample(project: string, name: string): Promise<string> {
  await copyFile(join(SAMPLES, `${name}.mts.txt`), join(project, `${name}.mts`));
  const tsconfig = (await readFile(join(SAMPLES, "tsconfig.json.txt"), "utf8")).replace("FILE", `${name}.mts`);
  await writeFile(join(project, `tsconfig.${name}.json`), tsconfig);
  return `tsconfig.${name}.json`;
}

describe("a typed consumer of the packed package", () => {
  let project: string;

  before(async () => {
    assert.ok(existsSync(join(REPO, "dist/gateway/index.d.ts")), "run `npm run build` first: the package ships dist/");
    // A space in the install path: module paths must be turned into file paths properly (fileURLToPath).
    project = await mkdtemp(join(tmpdir(), "sio gateway consumer-"));
    const packed = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", project], REPO, 120_000);
    assert.equal(packed.code, 0, packed.output);
    const [{ filename }] = JSON.parse(packed.output.slice(packed.output.indexOf("["))) as { filename: string }[];
    const manifest = { name: "typed-consumer", private: true, type: "module", dependencies: { "sio-gateway": `file:./${filename}` } };
    await writeFile(join(project, "package.json"), JSON.stringify(manifest, null, 2));
    const installed = await run("npm", ["install", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"], project, 300_000);
    assert.equal(installed.code, 0, installed.output);
  });
  after(async () => {
    if (project) await rm(project, { recursive: true, force: true });
  });

  it("type-checks a strict nodenext app module with typed events, acks, socket.data and options", async () => {
    const tsconfig = await addSample(project, "app");
    const checked = await run(process.execPath, [TSC, "-p", tsconfig], project, 120_000);
    assert.equal(checked.output.trim(), "");
    assert.equal(checked.code, 0);
  });

  it("the installed package starts from a path with a space, serving its demo app", async () => {
    const cli = join(project, "node_modules/sio-gateway/dist/cli/main.js");
    const child = spawn(process.execPath, [cli, "start", "--port", "0", "--host", "127.0.0.1", "--workers", "1"], {
      cwd: project,
      env: { ...process.env, LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      await waitUntil(() => /^ready: /m.test(stdout) || child.exitCode !== null, "the installed gateway prints its ready line", 30_000);
      const port = /^ready: http:\/\/[^:]+:(\d+) /m.exec(stdout)?.[1];
      assert.ok(port, `not ready: ${stderr}`);
      const page = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /socket\.io\.js/);
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
  });

  it("refuses the wrong uses, each on its line", async () => {
    const tsconfig = await addSample(project, "wrong");
    const checked = await run(process.execPath, [TSC, "-p", tsconfig], project, 120_000);
    assert.notEqual(checked.code, 0, "the wrong app type-checked: the types are not real");
    const source = (await readFile(join(project, "wrong.mts"), "utf8")).split("\n");
    const marked = source.flatMap((line, index) => (/\/\/ WRONG/.test(line) ? [index + 1] : []));
    const failed = new Set([...checked.output.matchAll(/^wrong\.mts\((\d+),\d+\): error TS\d+/gm)].map((match) => Number(match[1])));
    assert.equal(marked.length, 6);
    assert.deepEqual(
      marked.filter((line) => !failed.has(line)),
      [],
      `lines marked WRONG that type-checked; tsc said:\n${checked.output}`,
    );
    assert.deepEqual(
      [...failed].filter((line) => !marked.includes(line)),
      [],
      `errors on lines not marked WRONG:\n${checked.output}`,
    );
  });
});
