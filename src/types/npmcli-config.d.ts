// The parts of @npmcli/config (npm's own config loader, CommonJS, no bundled types) that release-monitor uses.
declare module "@npmcli/config" {
  interface ConfigOptions {
    definitions: Record<string, unknown>;
    shorthands: Record<string, string[]>;
    flatten: (obj: Record<string, unknown>, flat?: Record<string, unknown>) => Record<string, unknown>;
    nerfDarts?: string[];
    npmPath: string;
    argv?: string[];
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    execPath?: string;
    platform?: NodeJS.Platform;
    warn?: boolean;
  }
  interface Credentials {
    token?: string;
    auth?: string;
    username?: string;
    password?: string;
    certfile?: string;
    keyfile?: string;
  }
  export default class Config {
    constructor(options: ConfigOptions);
    load(): Promise<void>;
    get(key: string): unknown;
    readonly flat: Record<string, unknown>;
    getCredentialsByURI(uri: string): Credentials;
  }
}

declare module "@npmcli/config/lib/definitions/index.js" {
  const npmDefinitions: {
    definitions: Record<string, unknown>;
    shorthands: Record<string, string[]>;
    nerfDarts: string[];
    flatten: (obj: Record<string, unknown>, flat?: Record<string, unknown>) => Record<string, unknown>;
  };
  export default npmDefinitions;
}

declare module "@npmcli/config/lib/nerf-dart.js" {
  export default function nerfDart(url: string): string;
}
