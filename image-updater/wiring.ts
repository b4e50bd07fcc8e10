import { Kinds } from '../shared/api/constants.ts';
import type { Runner, RunnerDeps } from '../shared/controller/kind-runner.ts';
import type { EventRecorder } from '../shared/kube/events.ts';
import type { KubeObject } from '../shared/kube/object.ts';
import type { KubeRest } from '../shared/kube/rest.ts';
import { automationDeriver, ImageUpdateAutomationController, type AutomationControllerDeps } from './automation/index.ts';
import {
  derivedTarget,
  ImagePolicyController,
  ImageRepositoryController,
  imageObjectsDeriver,
  InlineController,
  type AccessResolver,
  type TagStore,
} from './controllers/index.ts';
import type { RegistryClient } from '../shared/registry/index.ts';

export interface ImageControllerDeps extends RunnerDeps {
  rest: KubeRest;
  registry: RegistryClient;
  access: AccessResolver;
  store: TagStore;
  events: EventRecorder;
  /** Options of the automation controller alone (checkout directory, push attempts, git deadlines). */
  automation?: Omit<AutomationControllerDeps, keyof RunnerDeps | 'rest' | 'events' | 'policies'>;
  /** Lockdown: ImagePolicies choose only from ImageRepositories of their own namespace. */
  noCrossNamespaceRefs?: boolean | undefined;
}

export interface ImageControllers {
  repositories: ImageRepositoryController;
  policies: ImagePolicyController;
  inline: InlineController;
  automations: ImageUpdateAutomationController;
  /** Every runner, in the order they start. */
  runners: ReadonlyArray<Runner<KubeObject>>;
}

/**
 * The image updater's controllers and who tells whom, all in this process: a scan runs the
 * policies that choose from that repository again, and a policy's new latest image runs the
 * automations of its namespace. ContinuousDeployments' inline blocks become objects of the
 * other three kinds.
 */
export function wireControllers(deps: ImageControllerDeps): ImageControllers {
  const { registry, access, store, events } = deps;
  const common = { port: deps.port, clock: deps.clock, log: deps.log, workers: deps.workers, namespace: deps.namespace, events };
  // The callbacks run only after the runners start, when every controller exists.
  const repositories = new ImageRepositoryController({
    ...common,
    registry,
    access,
    store,
    onScanned: (namespace, name) => policies.triggerFor(namespace, name),
  });
  const policies: ImagePolicyController = new ImagePolicyController({
    ...common,
    registry,
    access,
    store,
    repositories,
    onLatestChanged: (namespace) => automations.triggerNamespace(namespace),
    noCrossNamespaceRefs: deps.noCrossNamespaceRefs,
  });
  const automations = new ImageUpdateAutomationController({ ...deps.automation, ...common, rest: deps.rest, policies });

  const inline = new InlineController({
    ...common,
    rest: deps.rest,
    derivers: [
      imageObjectsDeriver({
        imageRepository: derivedTarget(Kinds.ImageRepository, repositories.runner),
        imagePolicy: derivedTarget(Kinds.ImagePolicy, policies.runner),
      }),
      automationDeriver(derivedTarget(Kinds.ImageUpdateAutomation, automations.runner)),
    ],
  });

  return {
    repositories,
    policies,
    inline,
    automations,
    runners: [repositories.runner, policies.runner, inline.runner, automations.runner],
  };
}
