import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tarArchive } from "./tar.js";
import { collectUserContext, dockerIgnore, userImageTag } from "./user-images.js";

const build = (context: string, extra: Partial<{ dockerfile: string; args: Record<string, string>; target: string | null }> = {}) => ({
  kind: "build" as const,
  context,
  dockerfile: "Dockerfile",
  args: {},
  target: null,
  ...extra,
});

describe("dockerIgnore", () => {
  it("excludes like Docker: folders with their contents, globs, ** and ! re-includes, comments", () => {
    const ignore = dockerIgnore("# comment\nnode_modules\n*.log\n**/tmp\ndocs/*\n!docs/keep.md\n/build/\n");
    const excluded = ["node_modules", "node_modules/x/index.js", "a.log", "src/a/tmp/x", "tmp", "docs/a.md", "build/out.js"];
    const kept = ["src/a.log.txt", "src/index.js", "docs/keep.md", "docs", "buildings/x"];
    expect(excluded.filter((p) => !ignore.excludes(p))).toEqual([]);
    expect(kept.filter((p) => ignore.excludes(p))).toEqual([]);
    expect(ignore.hasNegations).toBe(true);
    expect(dockerIgnore("").excludes("anything")).toBe(false);
  });
});

describe("user build contexts", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "mq-user-ctx-"));
    await mkdir(join(root, "src"), { recursive: true });
    await mkdir(join(root, "node_modules/dep"), { recursive: true });
    await writeFile(join(root, "Dockerfile"), "ARG MESHQUAKE_BASE=debian:bookworm-slim\nFROM ${MESHQUAKE_BASE}\nCOPY src /src\n");
    await writeFile(join(root, ".dockerignore"), "node_modules\n*.md\n");
    await writeFile(join(root, "src/app.js"), "listen()\n");
    await writeFile(join(root, "README.md"), "docs\n");
    await writeFile(join(root, "node_modules/dep/index.js"), "x\n");
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("sends what Docker would: .dockerignore applied, the Dockerfile always in", async () => {
    const { files, dockerfileText } = await collectUserContext(build(root), "s.yaml:1:1 services.a");
    expect(files.map((f) => f.path)).toEqual([".dockerignore", "Dockerfile", "src/app.js"]);
    expect(dockerfileText).toContain("MESHQUAKE_BASE");
  });

  it("the tag is a hash of everything that goes into the image", async () => {
    const { files } = await collectUserContext(build(root), "x");
    const tag = userImageTag(build(root), files, "sha256:base");
    expect(tag).toMatch(/^meshquake\/app:[0-9a-f]{12}$/);
    expect(userImageTag(build(root), files, "sha256:base")).toBe(tag);
    const variants = [
      userImageTag(build(root), files, "sha256:other-base"),
      userImageTag(build(root, { args: { A: "1" } }), files, "sha256:base"),
      userImageTag(build(root, { target: "slim" }), files, "sha256:base"),
      userImageTag(build(root), [...files, { path: "src/new.js", mode: 0o644, content: Buffer.from("") }], "sha256:base"),
    ];
    expect(new Set([tag, ...variants]).size).toBe(5);
    // Where the context lives does not matter: the same files give the same image.
    expect(userImageTag(build("/elsewhere"), files, "sha256:base")).toBe(tag);
  });

  it("says what is wrong with a context, naming where the scenario asks for it", async () => {
    await expect(collectUserContext(build(join(root, "nope")), "s.yaml:3:5 services.a")).rejects.toThrow(
      `s.yaml:3:5 services.a.build: the build context ${join(root, "nope")} is not a folder`,
    );
    await expect(collectUserContext(build(root, { dockerfile: "Missing" }), "w")).rejects.toThrow(`w.build: no Dockerfile at ${join(root, "Missing")}`);
    await expect(collectUserContext(build(root, { dockerfile: "../Dockerfile" }), "w")).rejects.toThrow("must be inside the build context");
  });
});

describe("links in a build context", () => {
  let outside: string;
  let context: string;
  beforeAll(async () => {
    outside = await mkdtemp(join(tmpdir(), "mq-user-outside-"));
    await writeFile(join(outside, "secret"), "hunter2\n");
    await mkdir(join(outside, "dir"));
    await writeFile(join(outside, "dir/key"), "private\n");
    context = await mkdtemp(join(tmpdir(), "mq-user-links-"));
    await writeFile(join(context, "Dockerfile"), "FROM scratch\nCOPY . /\n");
    await writeFile(join(context, "app.js"), "x\n");
    await symlink(join(outside, "secret"), join(context, "secret"));
    await symlink(join(outside, "dir"), join(context, "dir"));
    await symlink("app.js", join(context, "main.js"));
  });
  afterAll(async () => {
    await rm(outside, { recursive: true, force: true });
    await rm(context, { recursive: true, force: true });
  });

  it("are sent as links, as Docker sends them: never followed, so nothing outside the context is read", async () => {
    const { files } = await collectUserContext(build(context), "x");
    expect(files.map((f) => [f.path, f.linkTarget ?? null, f.content.toString()])).toEqual([
      ["Dockerfile", null, "FROM scratch\nCOPY . /\n"],
      ["app.js", null, "x\n"],
      ["dir", join(outside, "dir"), ""],
      ["main.js", "app.js", ""],
      ["secret", join(outside, "secret"), ""],
    ]);
    const archive = tarArchive(files).toString("latin1");
    expect(archive).not.toContain("hunter2");
    expect(archive).not.toContain("private");
  });

  it("a Dockerfile that is a link out of the context is refused", async () => {
    await symlink(join(outside, "secret"), join(context, "Evil.Dockerfile"));
    await expect(collectUserContext(build(context, { dockerfile: "Evil.Dockerfile" }), "s.yaml:2:3 services.a")).rejects.toThrow(
      `s.yaml:2:3 services.a.build: ${join(context, "Evil.Dockerfile")} is a link that leads outside the build context`,
    );
  });
});
