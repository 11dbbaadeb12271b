/** Process exit codes. CI gates on these; they are part of the public contract (README "Exit codes"). */
export const ExitCode = {
  ok: 0,
  drift: 1,
  usage: 2,
  unknown: 3,
  pending: 4,
  /** `monitor release` stopped by SIGINT after writing a consistent checkpoint (128 + 2). */
  interrupted: 130,
  internal: 70,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
