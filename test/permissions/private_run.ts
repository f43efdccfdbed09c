/**
 * Runs `nat64 run` with deno.json's "gateway" permission set exactly as a deployment
 * would, at the paths that set names (/etc/nat64/nat64.toml, /run/nat64/control.sock),
 * without touching this machine's real ones: the gateway lives in a private mount
 * namespace where /etc/nat64 and /run/nat64 are fresh tmpfs mounts that vanish with it.
 * The unprivileged variant runs as `nobody` with no capabilities, a DENO_DIR of its own
 * (a copy of the npm cache: the lab has no network), and, where this host's
 * /dev/net/tun is not the usual mode 0666, a 0666 node bound over it in that namespace.
 *
 * @module
 */

import { type Lab, mustRun, ROOT, Service } from "../e2e/harness.ts";

/** The user the unprivileged gateway runs as. */
export const NOBODY = 65534;
/** Where the set lets the gateway read its config. */
export const CONFIG_FILE = "/etc/nat64/nat64.toml";
/** The default control socket, the one the set lets the gateway serve. */
export const CONTROL_SOCKET = "/run/nat64/control.sock";

const MOUNT_POINTS = ["/etc/nat64", "/run/nat64"];

/** Mounts the private tmpfs trees, then execs the rest of the arguments in the lab's gw namespace. */
const SCRIPT = `set -eu
config="$1"; ns="$2"; run_uid="$3"; tun_dir="$4"; shift 4
mount -t tmpfs -o "mode=0755\${run_uid:+,uid=$run_uid}" nat64-run /run/nat64
mount -t tmpfs -o mode=0755 nat64-etc /etc/nat64
cp "$config" ${CONFIG_FILE}
chmod 0644 ${CONFIG_FILE}
if [ -n "$tun_dir" ]; then
  mount -t tmpfs -o mode=0755 nat64-dev "$tun_dir"
  mknod -m 0666 "$tun_dir/tun" c 10 200
  mount --bind "$tun_dir/tun" /dev/net/tun
fi
exec ip netns exec "$ns" "$@"`;

/**
 * Creates the mount points the private namespace needs where they are missing; the
 * returned function removes those it created (once empty again).
 */
export async function makeMountPoints(): Promise<() => Promise<void>> {
  const made: string[] = [];
  for (const dir of MOUNT_POINTS) {
    try {
      await Deno.mkdir(dir);
      made.push(dir);
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    }
  }
  return async () => {
    for (const dir of made) await Deno.remove(dir).catch(() => {});
  };
}

/** A DENO_DIR in `parent` that `uid` owns, holding a copy of this deno's npm cache. */
export async function denoDirFor(uid: number, parent: string): Promise<string> {
  const info = JSON.parse(await mustRun([Deno.execPath(), "info", "--json"], 30_000));
  const dir = `${parent}/deno-dir`;
  // Temporary directories are made 0700; the user must be able to pass through this one.
  await Deno.chmod(parent, 0o755);
  await Deno.mkdir(dir);
  await mustRun(["cp", "-r", `${info.denoDir}/npm`, `${dir}/npm`], 60_000);
  await mustRun(["chown", "-R", `${uid}:${uid}`, dir], 30_000);
  return dir;
}

/** How to start the gateway. */
export interface PrivateGatewayOptions {
  /** The TOML written to /etc/nat64/nat64.toml. */
  config: string;
  /** A scratch directory this test owns. */
  scratch: string;
  /** Flags after `run --config /etc/nat64/nat64.toml`. */
  args?: string[];
  /** Run as `nobody` with this DENO_DIR instead of as root. */
  nobodyDenoDir?: string;
}

/** Starts `deno run -P=gateway src/main.ts run --config /etc/nat64/nat64.toml` in the lab's gw. */
export async function startPrivateGateway(lab: Lab, options: PrivateGatewayOptions): Promise<Service> {
  const configCopy = `${options.scratch}/nat64.toml`;
  await Deno.writeTextFile(configCopy, options.config);
  const deno = [Deno.execPath(), "run", "-P=gateway", `${ROOT}src/main.ts`, "run", "--config", CONFIG_FILE];
  let runUid = "";
  let tunDir = "";
  let command = deno;
  if (options.nobodyDenoDir) {
    runUid = String(NOBODY);
    // Debian's udev makes /dev/net/tun 0666; a host (or container) that does not gets
    // that mode in the private namespace only.
    if ((Deno.statSync("/dev/net/tun").mode! & 0o006) !== 0o006) {
      tunDir = `${options.scratch}/dev`;
      await Deno.mkdir(tunDir);
    }
    command = [
      "setpriv",
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      "--clear-groups",
      "--no-new-privs",
      "env",
      "HOME=/nonexistent",
      `DENO_DIR=${options.nobodyDenoDir}`,
      deno[0],
      "run",
      "--cached-only",
      ...deno.slice(2),
    ];
  }
  return new Service([
    "unshare",
    "--mount",
    "--propagation",
    "private",
    "sh",
    "-c",
    SCRIPT,
    "sh",
    configCopy,
    lab.ns("gw"),
    runUid,
    tunDir,
    ...command,
    ...(options.args ?? []),
  ]);
}

/**
 * `nat64 stats --json` against the private gateway's control socket, from inside its
 * mount namespace, with only the permissions the operator command needs.
 */
export async function privateStats(gateway: Service): Promise<{ counters: Record<string, number> }> {
  const sock = CONTROL_SOCKET;
  const argv = [
    "nsenter",
    `--target=${gateway.pid}`,
    "--mount",
    Deno.execPath(),
    "run",
    `--allow-net=unix:${sock}`,
    `--allow-read=${sock}`,
    `--allow-write=${sock}`,
    `${ROOT}src/main.ts`,
    "stats",
    "--json",
  ];
  return JSON.parse(await mustRun(argv, 15_000));
}
