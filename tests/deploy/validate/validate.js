#!/usr/bin/env node
// Offline validation of deploy/k8s (no cluster needed).
//
//   node validate.js [--root REPO] [--kustomization DIR]... [--expect-error REGEX]...
//                    [--expect-errors-file FILE]   (one REGEX a line, '#' comments)
//
// For each kustomization (default: deploy/k8s/base and every deploy/k8s/overlays/*):
//   1. renders it with `kubectl kustomize DIR`;
//   2. parses every document (npm `yaml`) and validates it against the Kubernetes API schema
//      (npm `kubernetes-models`), KEDA's (`@kubernetes-models/keda`) or the Prometheus
//      Operator's (`@kubernetes-models/prometheus-operator`), dispatching on
//      apiVersion/kind; an unknown apiVersion/kind is an error, and so is a field the schema does
//      not define (a misspelt key would otherwise be dropped silently by the API server);
//   3. checks cross-references: probe and Service/NetworkPolicy ports exist on the containers;
//      Service/PDB/NetworkPolicy selectors and ScaledObject/HPA targets match workloads; the
//      autoscaler's query reads worker-heavy (and controller demand) metrics of
//      docs/PORTS_AND_METRICS.md, every series of its load sentence; every
//      ConfigMap/Secret referenced exists; gRPC ports and listen flags agree with the contract;
//      terminationGracePeriodSeconds covers preStop + WORKERPAIR_SHUTDOWN_GRACE; a non-root pod
//      can read the Secret files it mounts (mode and fsGroup); GPUs are only reached through an
//      nvidia.com/gpu request (no NVIDIA_VISIBLE_DEVICES in pods or deploy/docker images);
//      PodMonitors select workloads and name their ports, and every scraped workload has one
//      where the Prometheus Operator is used; PrometheusRule expressions and dashboard queries
//      read metrics docs/PORTS_AND_METRICS.md lists, alerts carry a severity and a summary;
//      KEDA triggers cannot read "no data" as 0 (ignoreNullValues) and have a fallback.
// Exit 0 when everything holds. With --expect-error (negative tests) exit 0 only if validation
// failed AND every REGEX matched at least one error message.
'use strict';

const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const YAML = require('yaml');

// ---------------------------------------------------------------------------------------------
// Arguments

function parseArgs(argv) {
  const args = { root: path.resolve(__dirname, '..', '..', '..'), kustomizations: [], expect: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--root') args.root = path.resolve(value());
    else if (a === '--kustomization') args.kustomizations.push(value());
    else if (a === '--expect-error') args.expect.push(new RegExp(value()));
    else if (a === '--expect-errors-file') {
      for (const line of fs.readFileSync(path.resolve(value()), 'utf8').split('\n')) {
        if (line.trim() && !line.trim().startsWith('#')) args.expect.push(new RegExp(line.trim()));
      }
    }
    else if (a === '-h' || a === '--help') {
      console.log(fs.readFileSync(__filename, 'utf8').split('\n').slice(1, 20).join('\n'));
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (args.kustomizations.length === 0) {
    const k8s = path.join(args.root, 'deploy', 'k8s');
    args.kustomizations.push(path.join(k8s, 'base'));
    const overlays = path.join(k8s, 'overlays');
    for (const d of fs.readdirSync(overlays).sort()) {
      if (fs.existsSync(path.join(overlays, d, 'kustomization.yaml'))) {
        args.kustomizations.push(path.join(overlays, d));
      }
    }
  }
  args.kustomizations = args.kustomizations.map((k) => path.resolve(args.root, k));
  return args;
}

// ---------------------------------------------------------------------------------------------
// The contract: docs/PORTS_AND_METRICS.md

function readContract(root) {
  const text = fs.readFileSync(path.join(root, 'docs', 'PORTS_AND_METRICS.md'), 'utf8');
  const ports = {};
  for (const m of text.matchAll(/^\|\s*(worker-[a-z]+|controller)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|/gm)) {
    ports[m[1]] = { grpc: Number(m[2]), metrics: Number(m[3]), health: Number(m[4]) };
  }
  // Metric names listed under the "worker-heavy" heading, up to the next service heading.
  const heavy = new Set();
  const section = text.split(/^worker-heavy\s*$/m)[1];
  if (section) {
    for (const line of section.split(/^worker-light\s*$/m)[0].split('\n')) {
      const m = line.match(/^-\s*`([a-z_:][a-z0-9_:]*)/);
      if (m) heavy.add(m[1]);
    }
  }
  // The controller's metrics (its heading starts with "controller", up to "every service"): the
  // demand the autoscaler may add to the pool's load.
  const controller = new Set();
  const controllerSection = text.split(/^controller\b.*$/m)[1];
  if (controllerSection) {
    for (const line of controllerSection.split(/^every service\s*$/m)[0].split('\n')) {
      const m = line.match(/^-\s*`([a-z_:][a-z0-9_:]*)/);
      if (m) controller.add(m[1]);
    }
  }
  const autoscaler = (text.match(/autoscaler reads[^\n]*(?:\n[^\n]+)*/) || [''])[0];
  const load = [...autoscaler.matchAll(/`([^`]+)`/g)]
    .flatMap((m) => m[1].match(/workerpair_[a-z0-9_]+/g) || [])
    .filter((n) => !/_slots$/.test(n));
  if (!ports['worker-light'] || !ports['worker-heavy'] || heavy.size === 0 || load.length === 0) {
    throw new Error('could not read ports, heavy metrics or the autoscaler load from docs/PORTS_AND_METRICS.md');
  }
  const health = new Set(['', ...(text.match(/workerpair\.v1\.[A-Za-z]+/g) || [])]);
  // Every metric the document lists, under any heading (what alerts and dashboards may read).
  const all = new Set();
  for (const m of text.matchAll(/`((?:workerpair|process)_[a-z0-9_]+)/g)) all.add(m[1]);
  return { ports, heavyMetrics: heavy, controllerMetrics: controller, allMetrics: all,
    loadSeries: [...new Set(load)], health };
}

function isListedMetric(contract, name) {
  if (contract.allMetrics.has(name)) return true;
  return contract.allMetrics.has(name.replace(/_(bucket|sum|count)$/, ''));
}

// Our series a PromQL expression reads: workerpair_* and process_* names (other exporters'
// series, e.g. kube-state-metrics', are not ours to check).
function ourSeries(expr) {
  return [...new Set(String(expr).match(/\b(?:workerpair|process)_[a-z0-9_]+\b/g) || [])];
}

function isHeavyMetric(contract, name) {
  if (contract.heavyMetrics.has(name)) return true;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return contract.heavyMetrics.has(base);
}

// ---------------------------------------------------------------------------------------------
// Schema validation with unknown-field detection

const MODEL_PACKAGES = [
  { test: (g) => g === 'keda.sh', pkg: '@kubernetes-models/keda' },
  { test: (g) => g === 'monitoring.coreos.com', pkg: '@kubernetes-models/prometheus-operator' },
  { test: () => true, pkg: 'kubernetes-models' },
];

function modelFor(apiVersion, kind) {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !/^[A-Z]\w*$/.test(kind)) {
    return null;
  }
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (!/^[a-z0-9.-]*$/.test(group) || !/^v\d+\w*$/.test(version)) return null;
  const { pkg } = MODEL_PACKAGES.find((p) => p.test(group));
  const modPath = group ? `${pkg}/${group}/${version}/${kind}` : `${pkg}/${version}/${kind}`;
  let file;
  try {
    file = require.resolve(modPath);
  } catch {
    return null;
  }
  const Model = require(file)[kind];
  // Only top-level resources (with apiVersion/kind of their own), not nested types.
  if (!Model || Model.kind !== kind || Model.apiVersion !== apiVersion) return null;
  const schemaRef = fs.readFileSync(file, 'utf8').match(/require\("([^"]*_schemas\/[^"]+)"\)/);
  const schemaValidate = schemaRef ? require(path.resolve(path.dirname(file), schemaRef[1])).validate : null;
  return { Model, schemaValidate };
}

// Wraps a document in proxies that record which keys the compiled schema validator reads. A key it
// never reads in an object whose properties it does read by name is a field the schema does not
// define. Objects it enumerates (maps such as labels or resources) count as fully known.
function trackReads(value, pointer, checks) {
  if (Array.isArray(value)) return value.map((v, i) => trackReads(v, `${pointer}/${i}`, checks));
  if (!value || typeof value !== 'object') return value;
  const read = new Set();
  let enumerated = false;
  const children = {};
  for (const k of Object.keys(value)) children[k] = trackReads(value[k], `${pointer}/${k}`, checks);
  checks.push(() => {
    if (enumerated || read.size === 0) return [];
    return Object.keys(value).filter((k) => !read.has(k)).map((k) => `${pointer}/${k}`);
  });
  return new Proxy(children, {
    get(target, key) {
      if (typeof key === 'string') read.add(key);
      return target[key];
    },
    has(target, key) {
      if (typeof key === 'string') read.add(key);
      return key in target;
    },
    ownKeys(target) {
      enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
}

// Fields the schema defines but whose compiled validator never reads them (unconstrained in the
// OpenAPI document), so the read tracking cannot see them. Keyed by kind, pointer without indices.
const UNTRACKED_FIELDS = {
  PriorityClass: ['/description'],
};

function validateSchema(doc, where, errors) {
  const model = modelFor(doc.apiVersion, doc.kind);
  if (!model) {
    errors.push(`${where}: unknown apiVersion/kind ${doc.apiVersion}/${doc.kind} (no schema to validate it)`);
    return;
  }
  try {
    new model.Model(doc).validate();
  } catch (e) {
    errors.push(`${where}: schema: ${String(e.message || e).split('\n').join('; ')}`);
  }
  if (model.schemaValidate) {
    const checks = [];
    model.schemaValidate(trackReads(JSON.parse(JSON.stringify(doc)), '', checks));
    const untracked = UNTRACKED_FIELDS[doc.kind] || [];
    for (const field of checks.flatMap((c) => c())) {
      if (untracked.includes(field.replace(/\/\d+(?=\/|$)/g, ''))) continue;
      errors.push(`${where}: schema: unknown field ${field}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Cross-references

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet']);

function podSpecOf(doc) {
  if (doc.kind === 'Job') return doc.spec?.template?.spec;
  return doc.spec?.template?.spec;
}

function matches(selector, labels) {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels && labels[k] === v);
}

function labelSelectorMatches(sel, labels) {
  if (!sel) return false;
  const ml = sel.matchLabels || {};
  const exprs = sel.matchExpressions || [];
  if (Object.keys(ml).length === 0 && exprs.length === 0) return true;
  if (!Object.entries(ml).every(([k, v]) => labels?.[k] === v)) return false;
  return exprs.every((e) => {
    const has = labels && Object.prototype.hasOwnProperty.call(labels, e.key);
    switch (e.operator) {
      case 'In': return has && e.values.includes(labels[e.key]);
      case 'NotIn': return !has || !e.values.includes(labels[e.key]);
      case 'Exists': return has;
      case 'DoesNotExist': return !has;
      default: return false;
    }
  });
}

function containerPorts(container) {
  return (container.ports || []).map((p) => ({ name: p.name, number: p.containerPort }));
}

function portExists(ports, ref) {
  if (typeof ref === 'number') return ports.some((p) => p.number === ref);
  if (typeof ref === 'string' && /^\d+$/.test(ref)) return ports.some((p) => p.number === Number(ref));
  return ports.some((p) => p.name === ref);
}

function parseDuration(text) {
  const m = String(text).match(/^(\d+(?:\.\d+)?)(ms|s|m|h)?$/);
  if (!m) return null;
  const n = Number(m[1]);
  return { ms: n / 1000, s: n, m: n * 60, h: n * 3600, undefined: n }[m[2]];
}

function listenPort(address) {
  const m = String(address).match(/:(\d+)$/);
  return m ? Number(m[1]) : null;
}

// Secret volume files belong to root; a non-root process reads them through the world bits, or
// the group bits when fsGroup makes the files its group's (kubelet applies fsGroup to them).
function checkSecretsReadable(spec, where, errors) {
  const pod = spec.securityContext || {};
  const containers = [...(spec.initContainers || []), ...(spec.containers || [])];
  for (const v of spec.volumes || []) {
    const modes = [];
    if (v.secret) {
      modes.push(v.secret.defaultMode ?? 0o644, ...(v.secret.items || []).map((i) => i.mode));
    }
    for (const source of v.projected?.sources || []) {
      if (source.secret) {
        modes.push(v.projected.defaultMode ?? 0o644, ...(source.secret.items || []).map((i) => i.mode));
      }
    }
    if (modes.length === 0) continue;
    for (const c of containers) {
      if (!(c.volumeMounts || []).some((m) => m.name === v.name)) continue;
      const uid = c.securityContext?.runAsUser ?? pod.runAsUser;
      const nonRoot = (uid !== undefined && uid !== 0) ||
        (uid === undefined && (c.securityContext?.runAsNonRoot ?? pod.runAsNonRoot) === true);
      if (!nonRoot) continue;
      for (const mode of modes.filter((m) => m !== undefined)) {
        const readable = (mode & 0o004) !== 0 || (pod.fsGroup !== undefined && (mode & 0o040) !== 0);
        if (!readable) {
          errors.push(`${where}: container ${c.name} runs as uid ${uid ?? '(non-root, from the image)'} and cannot read Secret volume ${v.name} (mode 0${mode.toString(8)}${pod.fsGroup === undefined ? ', no fsGroup' : ''}): set securityContext.fsGroup or a readable mode`);
        }
      }
    }
  }
}

// GPUs reach a pod only through the device plugin's nvidia.com/gpu request (which sets the
// visible devices); NVIDIA_VISIBLE_DEVICES set by hand exposes GPUs the pod did not request.
function checkGpuVisibility(spec, where, errors) {
  for (const c of [...(spec.initContainers || []), ...(spec.containers || [])]) {
    for (const e of c.env || []) {
      if (e.name === 'NVIDIA_VISIBLE_DEVICES') {
        errors.push(`${where}: container ${c.name} sets NVIDIA_VISIBLE_DEVICES; request nvidia.com/gpu instead (the device plugin sets it)`);
      }
    }
    const requested = c.resources?.requests?.['nvidia.com/gpu'];
    const limited = c.resources?.limits?.['nvidia.com/gpu'];
    if (requested !== undefined && String(requested) !== String(limited)) {
      errors.push(`${where}: container ${c.name} requests nvidia.com/gpu ${requested} but limits ${limited} (extended resources need equal limits)`);
    }
  }
}

// The images must not set NVIDIA_VISIBLE_DEVICES either (an ENV in a Dockerfile).
function checkDockerfiles(root, errors) {
  const dir = path.join(root, 'deploy', 'docker');
  if (!fs.existsSync(dir)) return;
  for (const name of fs.readdirSync(dir).filter((n) => /Dockerfile$/.test(n)).sort()) {
    const text = fs.readFileSync(path.join(dir, name), 'utf8').replace(/#[^\n]*/g, '');
    if (/\bNVIDIA_VISIBLE_DEVICES\s*=/.test(text)) {
      errors.push(`deploy/docker/${name}: sets NVIDIA_VISIBLE_DEVICES; leave GPU visibility to the device plugin's nvidia.com/gpu request`);
    }
  }
}

// Duration of a Prometheus `for:` (e.g. 5m, 1h30m).
function isPromDuration(text) {
  return /^(\d+(ms|s|m|h|d|w|y))+$/.test(String(text));
}

function checkPrometheusRule(d, where, contract, errors) {
  for (const group of d.spec?.groups || []) {
    for (const rule of group.rules || []) {
      const name = rule.alert || rule.record;
      const rw = `${where}: group ${group.name} rule ${name}`;
      const expr = typeof rule.expr === 'string' ? rule.expr : String(rule.expr ?? '');
      if (!expr.trim()) errors.push(`${rw}: no expr`);
      for (const series of ourSeries(expr)) {
        if (!isListedMetric(contract, series)) {
          errors.push(`${rw}: expr reads ${series}, which docs/PORTS_AND_METRICS.md does not list`);
        }
      }
      if (rule.for !== undefined && !isPromDuration(rule.for)) errors.push(`${rw}: for "${rule.for}" is not a duration`);
      if (rule.alert) {
        if (!rule.labels?.severity) errors.push(`${rw}: alert has no severity label`);
        if (!rule.annotations?.summary) errors.push(`${rw}: alert has no summary annotation`);
      }
    }
  }
}

function checkDashboard(d, where, contract, errors) {
  for (const [file, text] of Object.entries(d.data || {})) {
    if (!file.endsWith('.json')) continue;
    let dashboard;
    try {
      dashboard = JSON.parse(text);
    } catch (e) {
      errors.push(`${where}: ${file} is not JSON: ${e.message}`);
      continue;
    }
    const panels = dashboard.panels || [];
    if (panels.length === 0) errors.push(`${where}: ${file} has no panels`);
    for (const panel of panels) {
      for (const target of panel.targets || []) {
        for (const series of ourSeries(target.expr)) {
          if (!isListedMetric(contract, series)) {
            errors.push(`${where}: ${file} panel "${panel.title}" reads ${series}, which docs/PORTS_AND_METRICS.md does not list`);
          }
        }
      }
    }
  }
}

function crossCheck(docs, label, contract, root, errors) {
  const ns = (d) => d.metadata?.namespace || 'default';
  const key = (kind, d) => `${kind}/${ns(d)}/${d.metadata?.name}`;
  const byKey = new Map(docs.map((d) => [key(d.kind, d), d]));
  const workloads = docs.filter((d) => WORKLOAD_KINDS.has(d.kind));
  const configData = (d, name) => byKey.get(`ConfigMap/${ns(d)}/${name}`)?.data || {};

  // Workloads: referenced ConfigMaps/Secrets, probes, listen flags, grace period.
  for (const w of workloads) {
    const where = `${label}: ${w.kind}/${w.metadata?.name}`;
    const spec = podSpecOf(w);
    if (!spec) continue;
    const labels = w.spec?.template?.metadata?.labels || {};
    if (w.spec?.selector && !labelSelectorMatches(w.spec.selector, labels)) {
      errors.push(`${where}: spec.selector does not match the pod template labels`);
    }
    const need = (kind, name, optional, what) => {
      if (!optional && !byKey.has(`${kind}/${ns(w)}/${name}`)) {
        errors.push(`${where}: ${what} refers to ${kind} "${name}", which is not in the rendered manifests`);
      }
    };
    for (const v of spec.volumes || []) {
      if (v.configMap) need('ConfigMap', v.configMap.name, v.configMap.optional, `volume ${v.name}`);
      if (v.secret) need('Secret', v.secret.secretName, v.secret.optional, `volume ${v.name}`);
      for (const s of v.projected?.sources || []) {
        if (s.configMap) need('ConfigMap', s.configMap.name, s.configMap.optional, `volume ${v.name}`);
        if (s.secret) need('Secret', s.secret.name, s.secret.optional, `volume ${v.name}`);
      }
    }
    checkSecretsReadable(spec, where, errors);
    checkGpuVisibility(spec, where, errors);
    const claimNames = new Set((w.spec?.volumeClaimTemplates || []).map((c) => c.metadata?.name));
    const volumeNames = new Set([...(spec.volumes || []).map((v) => v.name), ...claimNames]);
    const annotations = w.spec?.template?.metadata?.annotations || {};
    const allPorts = [];
    for (const c of [...(spec.initContainers || []), ...(spec.containers || [])]) {
      const cw = `${where} container ${c.name}`;
      const ports = containerPorts(c);
      allPorts.push(...ports);
      const env = {};
      for (const ef of c.envFrom || []) {
        if (ef.configMapRef) {
          need('ConfigMap', ef.configMapRef.name, ef.configMapRef.optional, `container ${c.name} envFrom`);
          Object.assign(env, configData(w, ef.configMapRef.name));
        }
        if (ef.secretRef) need('Secret', ef.secretRef.name, ef.secretRef.optional, `container ${c.name} envFrom`);
      }
      for (const e of c.env || []) {
        const r = e.valueFrom;
        if (r?.configMapKeyRef) {
          need('ConfigMap', r.configMapKeyRef.name, r.configMapKeyRef.optional, `env ${e.name}`);
          const data = configData(w, r.configMapKeyRef.name);
          if (!r.configMapKeyRef.optional && byKey.has(`ConfigMap/${ns(w)}/${r.configMapKeyRef.name}`) &&
              !(r.configMapKeyRef.key in data)) {
            errors.push(`${cw}: env ${e.name} reads key ${r.configMapKeyRef.key} missing from ConfigMap ${r.configMapKeyRef.name}`);
          }
        }
        if (r?.secretKeyRef) need('Secret', r.secretKeyRef.name, r.secretKeyRef.optional, `env ${e.name}`);
        if (typeof e.value === 'string') env[e.name] = e.value;
      }
      for (const vm of c.volumeMounts || []) {
        if (!volumeNames.has(vm.name)) errors.push(`${cw}: volumeMount ${vm.name} names no volume`);
      }
      // Probes: the port must be one of this container's ports; gRPC probes must use the
      // service's gRPC port from the contract and a health service name it lists.
      const service = Object.keys(contract.ports).find((s) => c.name === s || (c.image || '').includes(s));
      for (const kind of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        const p = c[kind];
        if (!p) continue;
        const handler = p.grpc || p.httpGet || p.tcpSocket;
        if (handler && !portExists(ports, handler.port)) {
          errors.push(`${cw}: ${kind} targets port ${JSON.stringify(handler.port)}, which the container does not declare`);
        }
        if (p.grpc) {
          // Probes go to the plaintext health-only port: kubelet gRPC probes cannot speak TLS.
          if (service && p.grpc.port !== contract.ports[service].health) {
            errors.push(`${cw}: ${kind} gRPC port ${p.grpc.port} is not ${service}'s health port ${contract.ports[service].health} (docs/PORTS_AND_METRICS.md)`);
          }
          if (!contract.health.has(p.grpc.service ?? '')) {
            errors.push(`${cw}: ${kind} health service "${p.grpc.service}" is not one docs/PORTS_AND_METRICS.md names`);
          }
        }
      }
      // Listen flags must agree with the declared container ports (and the contract).
      for (const [flag, kindName] of [['WORKERPAIR_LISTEN', 'grpc'], ['WORKERPAIR_METRICS_LISTEN', 'metrics']]) {
        if (!env[flag]) continue;
        const port = listenPort(env[flag]);
        if (port === null || !ports.some((p) => p.number === port)) {
          errors.push(`${cw}: ${flag}=${env[flag]} listens on a port the container does not declare`);
        }
        if (service && port !== contract.ports[service][kindName]) {
          errors.push(`${cw}: ${flag}=${env[flag]} is not ${service}'s ${kindName} port ${contract.ports[service][kindName]}`);
        }
      }
      // Grace period sized to the longest job: preStop sleep + shutdown grace must fit.
      if (env.WORKERPAIR_SHUTDOWN_GRACE) {
        const grace = parseDuration(env.WORKERPAIR_SHUTDOWN_GRACE);
        const cmd = c.lifecycle?.preStop?.exec?.command || [];
        const preStop = cmd.length === 2 && /sleep$/.test(cmd[0]) ? Number(cmd[1]) :
          (c.lifecycle?.preStop?.sleep?.seconds || 0);
        const tgps = spec.terminationGracePeriodSeconds ?? 30;
        if (grace === null) errors.push(`${cw}: WORKERPAIR_SHUTDOWN_GRACE=${env.WORKERPAIR_SHUTDOWN_GRACE} is not a duration`);
        else if (tgps < preStop + grace) {
          errors.push(`${cw}: terminationGracePeriodSeconds ${tgps} < preStop ${preStop} s + WORKERPAIR_SHUTDOWN_GRACE ${grace} s`);
        }
      }
    }
    if (annotations['prometheus.io/port'] && !portExists(allPorts, Number(annotations['prometheus.io/port']))) {
      errors.push(`${where}: prometheus.io/port ${annotations['prometheus.io/port']} is not a container port`);
    }
  }

  const workloadsMatching = (d, test) => workloads.filter((w) => ns(w) === ns(d) && test(w.spec?.template?.metadata?.labels || {}));
  const portsOf = (w) => (podSpecOf(w)?.containers || []).flatMap(containerPorts);

  for (const d of docs) {
    const where = `${label}: ${d.kind}/${d.metadata?.name}`;
    if (d.kind === 'Service' && d.spec?.selector) {
      const targets = workloadsMatching(d, (l) => matches(d.spec.selector, l));
      if (targets.length === 0) {
        errors.push(`${where}: selector ${JSON.stringify(d.spec.selector)} matches no workload's pod labels`);
      }
      for (const p of d.spec.ports || []) {
        const ref = p.targetPort ?? p.port;
        for (const w of targets) {
          if (!portExists(portsOf(w), ref)) {
            errors.push(`${where}: port ${p.name || p.port} targetPort ${JSON.stringify(ref)} is not a container port of ${w.kind}/${w.metadata.name}`);
          }
        }
      }
      if (d.metadata?.name === 'worker-heavy' && d.spec.clusterIP !== 'None') {
        errors.push(`${where}: must be headless (clusterIP: None) for client-side round-robin`);
      }
      const sts = workloads.find((w) => w.kind === 'StatefulSet' && w.spec?.serviceName === d.metadata?.name);
      if (sts && d.spec.clusterIP !== 'None') {
        errors.push(`${where}: governs StatefulSet ${sts.metadata.name} but is not headless`);
      }
    }
    if (d.kind === 'StatefulSet' && d.spec?.serviceName &&
        !byKey.has(`Service/${ns(d)}/${d.spec.serviceName}`)) {
      errors.push(`${where}: serviceName ${d.spec.serviceName} names no Service`);
    }
    if (d.kind === 'PodDisruptionBudget') {
      if (workloadsMatching(d, (l) => labelSelectorMatches(d.spec?.selector, l)).length === 0) {
        errors.push(`${where}: selector matches no workload's pod labels`);
      }
    }
    if (d.kind === 'NetworkPolicy') {
      const selected = workloadsMatching(d, (l) => labelSelectorMatches(d.spec?.podSelector, l));
      const isEmpty = Object.keys(d.spec?.podSelector || {}).length === 0;
      if (!isEmpty && selected.length === 0) errors.push(`${where}: podSelector matches no workload`);
      for (const rule of d.spec?.ingress || []) {
        for (const p of rule.ports || []) {
          if (p.port === undefined) continue;
          for (const w of selected) {
            if (!portExists(portsOf(w), p.port)) {
              errors.push(`${where}: ingress port ${JSON.stringify(p.port)} is not a container port of ${w.kind}/${w.metadata.name}`);
            }
          }
        }
        for (const peer of rule.from || []) {
          if (peer.podSelector && !peer.namespaceSelector &&
              workloadsMatching(d, (l) => labelSelectorMatches(peer.podSelector, l)).length === 0) {
            errors.push(`${where}: ingress from podSelector ${JSON.stringify(peer.podSelector)} matches no workload in the namespace`);
          }
        }
      }
    }
    if (d.kind === 'ScaledObject' || d.kind === 'HorizontalPodAutoscaler') {
      const ref = d.spec?.scaleTargetRef || {};
      const kind = ref.kind || 'Deployment';
      if (!byKey.has(`${kind}/${ns(d)}/${ref.name}`)) {
        errors.push(`${where}: scaleTargetRef ${kind}/${ref.name} is not in the rendered manifests`);
      }
    }
    if (d.kind === 'PodMonitor') {
      const selected = workloadsMatching(d, (l) => labelSelectorMatches(d.spec?.selector, l));
      if (selected.length === 0) errors.push(`${where}: selector matches no workload's pod labels`);
      for (const e of d.spec?.podMetricsEndpoints || []) {
        for (const w of selected) {
          if (e.port === undefined || !portExists(portsOf(w), e.port)) {
            errors.push(`${where}: podMetricsEndpoints port ${JSON.stringify(e.port)} is not a container port of ${w.kind}/${w.metadata.name}`);
          }
        }
      }
    }
    if (d.kind === 'PrometheusRule') checkPrometheusRule(d, where, contract, errors);
    if (d.kind === 'ConfigMap' && d.metadata?.labels?.grafana_dashboard) {
      checkDashboard(d, where, contract, errors);
    }
    if (d.kind === 'ScaledObject') {
      for (const t of (d.spec?.triggers || []).filter((x) => x.type === 'prometheus')) {
        if (String(t.metadata?.ignoreNullValues ?? 'true') !== 'false') {
          errors.push(`${where}: prometheus trigger reads "no data" as 0 (set ignoreNullValues: "false", so a lost scrape falls back instead of scaling down)`);
        }
      }
      if (!(d.spec?.fallback?.replicas > 0) || !(d.spec?.fallback?.failureThreshold > 0)) {
        errors.push(`${where}: no fallback (replicas and failureThreshold) for when the metric cannot be read`);
      }
    }
    if (d.kind === 'ScaledObject') {
      const prom = (d.spec?.triggers || []).filter((t) => t.type === 'prometheus');
      if (prom.length === 0) errors.push(`${where}: no prometheus trigger`);
      for (const t of prom) checkQuery(`${where}: prometheus trigger`, t.metadata?.query, contract, errors);
      // At zero heavy pods the heavy series do not exist: each must read 0 then, or the whole
      // query is "no data", KEDA holds its fallback and the pool never reaches (or leaves) zero.
      if (d.spec?.minReplicaCount === 0) {
        for (const t of prom) {
          const query = String(t.metadata?.query ?? '');
          for (const s of new Set(query.match(/\bworkerpair_heavy_[a-z0-9_]+\b/g) || [])) {
            const guarded = new RegExp(`\\(\\s*sum\\(\\s*${s}\\s*(\\{[^}]*\\})?\\s*\\)\\s*or\\s+vector\\(0\\)\\s*\\)`);
            if (!guarded.test(query)) {
              errors.push(`${where}: minReplicaCount 0 but ${s} is not read as (sum(${s}{...}) or vector(0)): with no heavy pod the query has no data`);
            }
          }
        }
      }
      for (const t of prom) {
        if (!(Number(t.metadata?.threshold) > 0)) errors.push(`${where}: threshold ${t.metadata?.threshold} is not a positive number`);
      }
    }
    if (d.kind === 'HorizontalPodAutoscaler') {
      const metrics = d.spec?.metrics || [];
      if (metrics.length === 0) errors.push(`${where}: no metrics`);
      for (const m of metrics) {
        const name = m.external?.metric?.name || m.pods?.metric?.name || m.object?.metric?.name;
        if (!name) {
          errors.push(`${where}: metric of type ${m.type} does not read a workerpair metric`);
          continue;
        }
        if (isHeavyMetric(contract, name)) continue;
        const rule = adapterRules(root).find((r) => r.as === name);
        if (!rule) {
          errors.push(`${where}: metric ${name} is neither a worker-heavy metric of docs/PORTS_AND_METRICS.md nor defined by components/autoscaling-hpa/prometheus-adapter-rules.yaml`);
        } else {
          checkQuery(`${where}: prometheus-adapter rule ${name}`, rule.query, contract, errors);
        }
      }
    }
  }

  // Where the Prometheus Operator is in use (a PodMonitor, ServiceMonitor or PrometheusRule is
  // shipped, or KEDA reads prometheus-operated), the prometheus.io/* annotations alone scrape
  // nothing: every annotated workload needs a PodMonitor selecting its pods.
  const usesOperator = docs.some((d) => ['PodMonitor', 'ServiceMonitor', 'PrometheusRule'].includes(d.kind)) ||
    docs.some((d) => d.kind === 'ScaledObject' &&
      (d.spec?.triggers || []).some((t) => /prometheus-operated/.test(t.metadata?.serverAddress || '')));
  if (usesOperator) {
    const monitors = docs.filter((d) => d.kind === 'PodMonitor');
    for (const w of workloads) {
      const annotations = w.spec?.template?.metadata?.annotations || {};
      if (annotations['prometheus.io/scrape'] !== 'true') continue;
      const labels = w.spec?.template?.metadata?.labels || {};
      if (!monitors.some((m) => ns(m) === ns(w) && labelSelectorMatches(m.spec?.selector, labels))) {
        errors.push(`${label}: ${w.kind}/${w.metadata.name} is annotated for scraping but no PodMonitor selects its pods (the Prometheus Operator ignores the annotations)`);
      }
    }
  }

  // KEDA makes its own HPA: never both on one workload.
  const scaled = new Map();
  for (const d of docs.filter((x) => x.kind === 'ScaledObject' || x.kind === 'HorizontalPodAutoscaler')) {
    const t = `${ns(d)}/${d.spec?.scaleTargetRef?.kind || 'Deployment'}/${d.spec?.scaleTargetRef?.name}`;
    if (scaled.has(t)) {
      errors.push(`${label}: ${t} is scaled by both ${scaled.get(t)} and ${d.kind}/${d.metadata?.name}`);
    }
    scaled.set(t, `${d.kind}/${d.metadata?.name}`);
  }
  for (const d of docs.filter((x) => x.kind === 'ScaledObject' || x.kind === 'HorizontalPodAutoscaler')) {
    const target = byKey.get(`${d.spec?.scaleTargetRef?.kind || 'Deployment'}/${ns(d)}/${d.spec?.scaleTargetRef?.name}`);
    if (target && target.spec?.replicas !== undefined) {
      errors.push(`${label}: ${target.kind}/${target.metadata.name} sets spec.replicas although ${d.kind}/${d.metadata.name} owns it (every apply would reset the scale)`);
    }
  }
}

function checkQuery(where, query, contract, errors) {
  if (typeof query !== 'string' || !query.trim()) {
    errors.push(`${where}: no query`);
    return;
  }
  const series = [...new Set(query.match(/\b[a-zA-Z_:][a-zA-Z0-9_:]*(?=\s*\{)/g) || [])];
  const named = [...new Set(query.match(/\bworkerpair_[a-z0-9_]+\b/g) || [])];
  for (const s of new Set([...series, ...named])) {
    if (!isHeavyMetric(contract, s) && !contract.controllerMetrics.has(s)) {
      errors.push(`${where}: query reads ${s}, which is neither a worker-heavy metric nor a controller metric of docs/PORTS_AND_METRICS.md`);
    }
  }
  for (const s of contract.loadSeries) {
    if (!named.includes(s)) errors.push(`${where}: query does not read ${s} (load = ${contract.loadSeries.join(' + ')})`);
  }
}

let adapterRulesCache = null;
function adapterRules(root) {
  if (adapterRulesCache) return adapterRulesCache;
  const file = path.join(root, 'deploy', 'k8s', 'components', 'autoscaling-hpa', 'prometheus-adapter-rules.yaml');
  adapterRulesCache = [];
  if (!fs.existsSync(file)) return adapterRulesCache;
  const cfg = YAML.parse(fs.readFileSync(file, 'utf8')) || {};
  const rules = cfg.rules || {};
  for (const r of [...(rules.external || []), ...(rules.custom || [])]) {
    adapterRulesCache.push({ as: r.name?.as, query: r.metricsQuery });
  }
  return adapterRulesCache;
}

// ---------------------------------------------------------------------------------------------

function render(dir) {
  return execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const contract = readContract(args.root);
  const errors = [];
  let documents = 0;
  for (const dir of args.kustomizations) {
    const label = path.relative(args.root, dir) || dir;
    let text;
    try {
      text = render(dir);
    } catch (e) {
      errors.push(`${label}: kubectl kustomize failed: ${(e.stderr || e.message || '').toString().trim()}`);
      continue;
    }
    const docs = [];
    for (const [i, parsed] of YAML.parseAllDocuments(text).entries()) {
      if (parsed.errors.length) {
        errors.push(`${label}: document ${i}: YAML: ${parsed.errors.map((e) => e.message).join('; ')}`);
        continue;
      }
      const doc = parsed.toJS();
      if (doc === null || doc === undefined) continue;
      documents++;
      const where = `${label}: ${doc.kind}/${doc.metadata?.name ?? `#${i}`}`;
      validateSchema(doc, where, errors);
      docs.push(doc);
    }
    if (docs.length === 0) errors.push(`${label}: rendered no documents`);
    crossCheck(docs, label, contract, args.root, errors);
    console.log(`${label}: ${docs.length} documents`);
  }

  if (args.kustomizations.some((k) => k.startsWith(path.join(args.root, 'deploy', 'k8s')))) {
    checkDockerfiles(args.root, errors);
  }

  if (args.expect.length) {
    for (const e of errors) console.log(`  found: ${e}`);
    const missing = args.expect.filter((re) => !errors.some((e) => re.test(e)));
    if (errors.length === 0 || missing.length) {
      console.error(`FAIL: expected validation errors not reported: ${missing.map(String).join(', ') || '(none reported)'}`);
      process.exit(1);
    }
    console.log(`OK: the broken manifests were rejected with all ${args.expect.length} expected errors (${errors.length} in all)`);
    return;
  }
  if (errors.length) {
    for (const e of errors) console.error(`ERROR ${e}`);
    console.error(`FAIL: ${errors.length} error(s) in ${args.kustomizations.length} kustomization(s)`);
    process.exit(1);
  }
  console.log(`OK: ${args.kustomizations.length} kustomizations, ${documents} documents valid, cross-references hold`);
}

try {
  main();
} catch (e) {
  console.error(`FAIL: ${e.stack || e}`);
  process.exit(2);
}
