import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BASE_PACKAGES, debianMirrorFromAptSources, debootstrapBaseTag } from "./base-image.js";
import { collectBuildContext, CONTEXT_DIRS, DOCKERFILE, imageTag, type ContextFile } from "./images.js";
import { tarArchive } from "./tar.js";

const file = (path: string, content: string, mode = 0o644): ContextFile => ({
  path,
  mode,
  content: Buffer.from(content),
});

describe("imageTag", () => {
  const files = [file("images/Dockerfile", "FROM x"), file("fixtures/service/server.js", "listen()")];
  const tag = imageTag(files, "sha256:base");

  it("is meshquake/mesh with 12 hex digits, independent of file order", () => {
    expect(tag).toMatch(/^meshquake\/mesh:[0-9a-f]{12}$/);
    expect(imageTag([...files].reverse(), "sha256:base")).toBe(tag);
  });

  it("changes with any content, path, mode or base id", () => {
    const variants = [
      imageTag([files[0]!, file("fixtures/service/server.js", "listen();")], "sha256:base"),
      imageTag([files[0]!, file("fixtures/service/main.js", "listen()")], "sha256:base"),
      imageTag([files[0]!, file("fixtures/service/server.js", "listen()", 0o755)], "sha256:base"),
      imageTag(files, "sha256:other"),
      imageTag([...files, file("images/pod/.keep", "")], "sha256:base"),
    ];
    expect(new Set([tag, ...variants]).size).toBe(variants.length + 1);
  });
});

describe("tarArchive", () => {
  it("writes a ustar archive that tar reads back, long paths and modes included", () => {
    const long = `images/haproxy/${"deeply/nested/".repeat(8)}template.cfg`;
    expect(long.length).toBeGreaterThan(100);
    const archive = tarArchive(
      [file("images/Dockerfile", "FROM x\n"), file("images/pod/init.sh", "#!/bin/sh\n", 0o755), file(long, "x".repeat(513))],
      ["images", "images/haproxy"],
    );
    expect(archive.length % 512).toBe(0);
    const listing = spawnSync("tar", ["-tvf", "-"], { input: archive, encoding: "utf8" });
    expect(listing.status, listing.stderr).toBe(0);
    const lines = listing.stdout.trim().split("\n");
    expect(lines.map((l) => l.split(/\s+/).at(-1))).toEqual([
      "images/",
      "images/haproxy/",
      "images/Dockerfile",
      "images/pod/init.sh",
      long,
    ]);
    expect(lines[3]).toMatch(/^-rwxr-xr-x root\/root\s+10 /);
    expect(lines[4]).toMatch(/^-rw-r--r-- root\/root\s+513 /);
  });

  it("is byte-for-byte deterministic", () => {
    const files = [file("a", "1"), file("b/c", "2")];
    expect(tarArchive(files).equals(tarArchive(files))).toBe(true);
  });
});

describe("collectBuildContext", () => {
  let root = "";
  afterEach(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("takes the Dockerfile and every file under the context folders, sorted, with exec bits", async () => {
    root = await mkdtemp(join(tmpdir(), "meshquake-context-"));
    await mkdir(join(root, "images/pod"), { recursive: true });
    await mkdir(join(root, "fixtures/service/lib"), { recursive: true });
    await mkdir(join(root, "src"), { recursive: true });
    await writeFile(join(root, "images/Dockerfile"), "FROM x\n");
    await writeFile(join(root, "images/README.md"), "not in the image\n");
    await writeFile(join(root, "images/pod/init.sh"), "#!/bin/sh\n");
    await chmod(join(root, "images/pod/init.sh"), 0o700);
    await writeFile(join(root, "fixtures/service/server.js"), "s\n");
    await writeFile(join(root, "fixtures/service/lib/util.js"), "u\n");
    await writeFile(join(root, "src/other.ts"), "not in the image\n");
    const files = await collectBuildContext(root, { fixtureModules: false });
    expect(files.map((f) => [f.path, f.mode.toString(8)])).toEqual([
      ["fixtures/service/lib/util.js", "644"],
      ["fixtures/service/server.js", "644"],
      ["images/Dockerfile", "644"],
      ["images/pod/init.sh", "755"],
    ]);
  });

  it("adds the gRPC modules from the harness's own node_modules, whatever the project root", async () => {
    root = await mkdtemp(join(tmpdir(), "meshquake-context-"));
    await mkdir(join(root, "images"), { recursive: true });
    await writeFile(join(root, "images/Dockerfile"), "FROM x\n");
    const paths = (await collectBuildContext(root)).map((f) => f.path);
    for (const p of ["@grpc/grpc-js/package.json", "@grpc/grpc-js/build/src/index.js", "@grpc/proto-loader/build/src/index.js", "protobufjs/package.json"]) {
      expect(paths).toContain(`fixtures/service/node_modules/${p}`);
    }
    expect(paths.filter((p) => /\.(d\.ts|map|ts)$/.test(p) || p.includes("/@types/"))).toEqual([]);
  });

  it("says which file is missing", async () => {
    root = await mkdtemp(join(tmpdir(), "meshquake-context-"));
    await expect(collectBuildContext(root)).rejects.toThrow(/cannot read images\/Dockerfile under .*: ENOENT/);
  });
});

describe("debianMirrorFromAptSources", () => {
  it("picks the suite's own deb822 stanza, not security or deb-src", () => {
    const text = [
      "Types: deb",
      "URIs: http://deb.debian.org/debian-security",
      "Suites: bookworm-security",
      "Components: main",
      "",
      "Types: deb-src",
      "URIs: http://src.example/debian",
      "Suites: bookworm",
      "",
      "Types: deb",
      "Enabled: no",
      "URIs: http://disabled.example/debian",
      "Suites: bookworm",
      "",
      "Types: deb",
      "# http://snapshot.debian.org/archive/debian/20250520T000000Z",
      "URIs: http://deb.debian.org/debian/",
      "Suites: bookworm bookworm-updates",
      "Components: main",
    ].join("\n");
    expect(debianMirrorFromAptSources([{ name: "/etc/apt/sources.list.d/debian.sources", text }])).toBe(
      "http://deb.debian.org/debian",
    );
  });

  it("reads one-line sources with options and comments", () => {
    const text = [
      "# deb http://commented.example/debian bookworm main",
      "deb http://security.debian.org/debian-security bookworm-security main",
      "deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://mirror.example/debian bookworm main contrib",
    ].join("\n");
    expect(debianMirrorFromAptSources([{ name: "/etc/apt/sources.list", text }])).toBe("http://mirror.example/debian");
  });

  it("returns null when no source serves the suite", () => {
    const text = "deb http://deb.debian.org/debian bullseye main\n";
    expect(debianMirrorFromAptSources([{ name: "/etc/apt/sources.list", text }, { name: "x.sources", text: "" }])).toBeNull();
  });
});

describe("debootstrapBaseTag", () => {
  it("names the suite and a short hash of the package list", () => {
    expect(debootstrapBaseTag()).toMatch(/^meshquake\/base:bookworm-[0-9a-f]{8}$/);
  });
});

describe("the mesh image's recipe", () => {
  // BASE_PACKAGES and CONTEXT_DIRS come from the data planes; the Dockerfile is written by hand.
  const dockerfile = readFileSync(DOCKERFILE, "utf8");

  it("is what today's image is made of: HAProxy's package and support files among the pod's", () => {
    expect(BASE_PACKAGES).toEqual(["haproxy", "nodejs", "iproute2", "iptables", "ca-certificates", "procps"]);
    expect(CONTEXT_DIRS).toEqual(["fixtures/service", "images/pod", "images/haproxy"]);
  });

  it("the Dockerfile installs every package and copies every folder the data planes declare", () => {
    expect(dockerfile).toContain(`for pkg in ${BASE_PACKAGES.join(" ")}; do`);
    for (const dir of CONTEXT_DIRS) expect(dockerfile).toContain(`COPY ${dir}/ `);
  });
});
