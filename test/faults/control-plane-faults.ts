/**
 * The control plane itself failing under a 500-object sync: kube-apiserver killed and started
 * again, etcd frozen. These run on a control plane of their own (the shared one must never go
 * down under other tests); the agent reaches it through the fault proxy, which only watches here
 * and tells the case which request the sync has reached.
 */
import type { ControlPlane } from '../harness/control-plane.ts';
import type { KubeCall } from '../harness/kube-fault-proxy.ts';
import { isObjectDelete, isObjectWrite, type Counters, type SyncFault } from './sync-faults.ts';

/** Long enough for every client to see it: watches cut, requests refused or hung, retries spent. */
const OUTAGE_MS = 10_000;

type Trigger = (call: KubeCall, seen: Counters) => boolean;

const atWrite =
  (n: number): Trigger =>
  (call, seen) =>
    isObjectWrite(call) && !call.dryRun && seen.writes === n;
const atDelete =
  (n: number): Trigger =>
  (call, seen) =>
    isObjectDelete(call) && seen.deletes === n;

/**
 * A fault that starts at the request `at` and lasts OUTAGE_MS; the case's `fired` is called once
 * the control plane is whole again, so the convergence clock starts from there.
 */
function outage(name: string, sync: 'first' | 'second', at: Trigger, begin: () => Promise<void>, end: () => Promise<void>): SyncFault {
  return {
    name,
    sync,
    rule: (fire, counters) => {
      let started = false;
      return {
        onRequest: (call) => {
          if (!started && at(call, counters)) {
            started = true;
            void (async () => {
              await begin();
              await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
              await end();
              fire();
            })();
          }
          return 'forward';
        },
      };
    },
  };
}

export function controlPlaneFaults(plane: () => ControlPlane): SyncFault[] {
  const restart = () => plane().startApiserver();
  const pause = () => Promise.resolve(plane().pauseEtcd());
  const resume = () => Promise.resolve(plane().resumeEtcd());
  return [
    outage(
      'kube-apiserver killed at the 250th write, back after 10 s',
      'first',
      atWrite(250),
      () => plane().stopApiserver('SIGKILL'),
      restart,
    ),
    outage(
      'kube-apiserver stopped during prune (20th delete), back after 10 s',
      'second',
      atDelete(20),
      () => plane().stopApiserver('SIGTERM'),
      restart,
    ),
    outage('etcd frozen at the 250th write for 10 s', 'first', atWrite(250), pause, resume),
    outage('etcd frozen during prune (20th delete) for 10 s', 'second', atDelete(20), pause, resume),
  ];
}
