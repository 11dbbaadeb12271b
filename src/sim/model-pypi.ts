import type { Content } from "./content.ts";
import { pep503 } from "./versions.ts";

export interface PypiFile {
  filename: string;
  packagetype: "sdist" | "bdist_wheel";
  pythonVersion: string;
  content: Content;
  uploadedAt: number;
  requiresPython: string | null;
}

export interface PypiRelease {
  version: string;
  files: PypiFile[];
  yanked: boolean;
  yankedReason: string | null;
  createdAt: number;
  hidden: boolean;
}

export class PypiProject {
  readonly name: string;
  readonly meta: {
    summary: string;
    license: string;
    homepage: string;
    source: string;
    owner: string;
    requiresPython: string;
  };
  readonly releases = new Map<string, PypiRelease>();
  lastSerial = 0;

  constructor(name: string, meta: PypiProject["meta"]) {
    this.name = name;
    this.meta = meta;
  }

  get normalized(): string {
    return pep503(this.name);
  }
}

export class PypiStore {
  readonly #projects = new Map<string, PypiProject>();
  #serial = 31_000_000;

  /** Lookup by normalized name. */
  get(normalized: string): PypiProject | null {
    return this.#projects.get(normalized) ?? null;
  }

  ensure(name: string, meta: PypiProject["meta"]): PypiProject {
    const existing = this.get(pep503(name));
    if (existing) return existing;
    const project = new PypiProject(name, meta);
    this.#projects.set(pep503(name), project);
    return project;
  }

  /** Every change bumps the global serial (`last_serial`, `X-PyPI-Last-Serial`). */
  touch(project: PypiProject): void {
    project.lastSerial = ++this.#serial;
  }

  /** Files by their path on the files host (`/packages/<b2[0:2]>/<b2[2:4]>/<b2[4:]>/<filename>`). */
  fileByPath(path: string): { project: PypiProject; release: PypiRelease; file: PypiFile } | null {
    for (const project of this.#projects.values()) {
      for (const release of project.releases.values()) {
        for (const file of release.files) if (pypiFilePath(file) === path) return { project, release, file };
      }
    }
    return null;
  }
}

export function pypiFilePath(file: PypiFile): string {
  const b2 = file.content.digests().blake2b256;
  return `/packages/${b2.slice(0, 2)}/${b2.slice(2, 4)}/${b2.slice(4)}/${file.filename}`;
}
