// k8s-manifests.js: validate contrib/kubernetes/*.yaml (85-k8s-manifests.sh).
//
// node k8s-manifests.js OUTDIR FILE.yaml...
//
// Every YAML document of every file is validated with the kubernetes-models
// class of its apiVersion and kind (the OpenAPI schemas of the Kubernetes
// API); then the fields the deployment relies on are checked explicitly,
// (an enrolling node makes its key in the pod and enrols with a token from
// a Secret; the authority keeps its store on a PersistentVolume and its
// key in a Secret), and every embedded node.ini is written to OUTDIR/NN-NAME.ini for
// `sallyport check`.  YAML is read by js-yaml 3 (YAML 1.1 integers, as
// Kubernetes' own parser: `defaultMode: 0440` is octal 288).
'use strict';
const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');

const classes = {
  'v1/ConfigMap': require('kubernetes-models/v1/ConfigMap').ConfigMap,
  'v1/Service': require('kubernetes-models/v1/Service').Service,
  'v1/Secret': require('kubernetes-models/v1/Secret').Secret,
  'apps/v1/Deployment': require('kubernetes-models/apps/v1/Deployment').Deployment,
  'apps/v1/StatefulSet': require('kubernetes-models/apps/v1/StatefulSet').StatefulSet,
  'networking.k8s.io/v1/NetworkPolicy':
    require('kubernetes-models/networking.k8s.io/v1/NetworkPolicy').NetworkPolicy,
  'policy/v1/PodDisruptionBudget':
    require('kubernetes-models/policy/v1/PodDisruptionBudget').PodDisruptionBudget,
};

const NODE_PORT = 7400;
const PROBE = ['sallyport', 'probe', 'http://127.0.0.1:9400/readyz'];
const KEY_MODE = 0o440;

let failures = 0;
function fail(where, msg) {
  console.error(`FAIL: ${where}: ${msg}`);
  failures++;
}
function eq(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

const [outdir, ...files] = process.argv.slice(2);
if (!outdir || files.length === 0) {
  console.error('usage: node k8s-manifests.js OUTDIR FILE.yaml...');
  process.exit(2);
}

let inis = 0, objects = 0, sidecars = 0, nodePolicies = 0, enrolling = 0, authorities = 0;

// The value of KEY in the [SECTION...] part of an ini text, or ''.
function iniValue(text, section, key) {
  let cur = '';
  for (const line of text.split('\n')) {
    const h = /^\[([^\]]*)\]/.exec(line);
    if (h) { cur = h[1]; continue; }
    const kv = new RegExp(`^${key}\\s*=\\s*(\\S+)`).exec(line);
    if (kv && (cur === section || cur.startsWith(section + ' '))) return kv[1];
  }
  return '';
}

// The mount (with its volume) that holds FILE, or null.
function mountOf(mounts, file) {
  let best = null;
  for (const m of mounts)
    if (file.startsWith(m.mountPath + '/') &&
        (!best || m.mountPath.length > best.mountPath.length)) best = m;
  return best;
}

// The containers that run the sallyport image.
function isSallyport(c) { return /(^|\/)sallyport:/.test(c.image || ''); }
function runsNode(c) { return isSallyport(c) && (c.args || [])[0] === 'run'; }

function checkSecurityContext(where, pod, c) {
  const p = pod.securityContext || {};
  const s = c.securityContext || {};
  const eff = (k) => (s[k] !== undefined ? s[k] : p[k]);
  if (eff('runAsNonRoot') !== true) fail(where, 'runAsNonRoot is not true');
  if (!(eff('runAsUser') > 0)) fail(where, 'no non-zero runAsUser');
  if (s.allowPrivilegeEscalation !== false)
    fail(where, 'allowPrivilegeEscalation is not false');
  if (s.readOnlyRootFilesystem !== true) fail(where, 'readOnlyRootFilesystem is not true');
  const caps = s.capabilities || {};
  if (!eq(caps.drop, ['ALL'])) fail(where, 'capabilities do not drop ALL');
  if (caps.add && caps.add.length) fail(where, `capabilities added: ${caps.add}`);
  const sc = eff('seccompProfile') || {};
  if (sc.type !== 'RuntimeDefault') fail(where, 'seccompProfile is not RuntimeDefault');
}

function checkProbe(where, name, probe) {
  if (!probe) return fail(where, `no ${name}`);
  if (!probe.exec || !eq(probe.exec.command, PROBE))
    fail(where, `${name} is not exec ${PROBE.join(' ')}`);
}

function checkPod(where, doc, configMaps) {
  const pod = doc.spec.template.spec;
  const ps = pod.securityContext || {};
  if (ps.runAsNonRoot !== true) fail(where, 'pod runAsNonRoot is not true');
  if (!(ps.fsGroup > 0)) fail(where, 'pod has no fsGroup (the key Secret needs it)');
  if ((ps.seccompProfile || {}).type !== 'RuntimeDefault')
    fail(where, 'pod seccompProfile is not RuntimeDefault');
  const volumes = {};
  for (const v of pod.volumes || []) volumes[v.name] = v;
  // A StatefulSet's PersistentVolumeClaims, by name.
  for (const t of doc.spec.volumeClaimTemplates || [])
    volumes[t.metadata.name] = {claim: t};
  const init = pod.initContainers || [];
  const all = init.concat(pod.containers || []);
  let nodes = 0;
  for (const c of all) {
    const cw = `${where} container ${c.name}`;
    const isInit = init.includes(c);
    // Every container but the one that loads nftables rules (intercept.yaml,
    // CAP_NET_ADMIN for nft only) runs unprivileged.
    if (c.name !== 'intercept-rules') checkSecurityContext(cw, pod, c);
    else if (!eq((c.securityContext.capabilities || {}).add, ['NET_ADMIN']))
      fail(cw, 'intercept-rules may add NET_ADMIN only');
    if (!runsNode(c)) continue;
    nodes++;
    if (isInit) {
      sidecars++;
      if (c.restartPolicy !== 'Always')
        fail(cw, 'a sallyport init container must be a native sidecar (restartPolicy: Always)');
    } else if (c.restartPolicy !== undefined) {
      fail(cw, 'restartPolicy on a regular container');
    }
    checkProbe(cw, 'startupProbe', c.startupProbe);
    checkProbe(cw, 'readinessProbe', c.readinessProbe);
    const r = (c.resources || {}).requests || {};
    if (!r.cpu || !r.memory) fail(cw, 'no cpu and memory requests');
    if (!((c.resources || {}).limits || {}).memory) fail(cw, 'no memory limit');
    // The config: a ConfigMap mounted as a directory (subPath is never
    // updated, so reload = watch would not see changes), holding node.ini
    // with reload = watch.
    const ini = c.args[1];
    let configFound = false, keyFound = false, iniText = '';
    const mounts = [];
    for (const m of c.volumeMounts || []) {
      const v = volumes[m.name];
      if (!v) { fail(cw, `mount of undefined volume ${m.name}`); continue; }
      mounts.push({mountPath: m.mountPath, v});
      // Only the node's own state (an emptyDir) and the authority's store
      // (a PersistentVolume) may be written.
      if (m.readOnly !== true && !v.emptyDir && !v.claim)
        fail(cw, `mount ${m.name} not readOnly`);
      if (v.configMap) {
        if (m.subPath) fail(cw, `ConfigMap ${v.configMap.name} mounted with subPath: reload = watch never sees an update`);
        if (ini !== `${m.mountPath}/node.ini`) continue;
        configFound = true;
        const cm = configMaps[v.configMap.name];
        if (!cm || !cm.data || !cm.data['node.ini'])
          fail(cw, `ConfigMap ${v.configMap.name} with node.ini is not in the file`);
        else iniText = cm.data['node.ini'];
      }
      if (v.secret) {
        keyFound = true;
        if (v.secret.defaultMode !== KEY_MODE)
          fail(cw, `Secret ${v.secret.secretName} defaultMode is ${v.secret.defaultMode}, want 0440`);
      }
    }
    if (iniText) checkFiles(cw, pod, init, c, mounts, iniText);
    if (!configFound) fail(cw, `${ini} does not come from a ConfigMap directory mount`);
    if (!keyFound) fail(cw, 'no key Secret mounted');
  }
  if (nodes === 0) fail(where, 'runs no sallyport node');
}

// Where the node's files come from.  The key is from a Secret, or made in
// the pod: in an emptyDir that an init container before the node fills
// with `sallyport identity create`.  A node that enrols ([node] enroll)
// makes its key in the pod (never a Secret), keeps the credential next to
// it, and reads the token from a Secret.  An authority ([authority
// NAME]) has its key from a Secret and its store on a PersistentVolume
// that kubelet does not re-chown at every mount (fsGroupChangePolicy
// OnRootMismatch: a store made group-writable is refused).
function checkFiles(cw, pod, init, c, mounts, text) {
  const identity = iniValue(text, 'node', 'identity');
  const im = mountOf(mounts, identity);
  // The init containers that run before c (all of them for a regular one).
  const before = init.includes(c) ? init.slice(0, init.indexOf(c)) : init;
  const made = im && im.v.emptyDir && before.some((ic) =>
    (ic.command || []).join(' ').includes(`sallyport identity create ${identity}`) &&
    (ic.volumeMounts || []).some((m) => m.mountPath === im.mountPath));
  if (im && im.v.emptyDir && !made)
    fail(cw, `identity ${identity} is in an emptyDir that no init container before it fills`);
  if (!im || !(im.v.secret || im.v.emptyDir))
    fail(cw, `identity ${identity} is neither from a key Secret nor made in the pod`);
  const enroll = iniValue(text, 'node', 'enroll');
  if (enroll) {
    enrolling++;
    if (!made) fail(cw, `enrolling node: identity ${identity} is not made in the pod (an emptyDir)`);
    const tm = mountOf(mounts, enroll);
    if (!tm || !tm.v.secret) fail(cw, `enroll token ${enroll} is not from a Secret`);
    const cred = iniValue(text, 'node', 'enroll_credential');
    const cm = mountOf(mounts, cred);
    if (!cm || !im || cm.mountPath !== im.mountPath)
      fail(cw, `enroll_credential ${cred} is not next to the key in its emptyDir`);
  }
  if (/^\[authority /m.test(text)) {
    authorities++;
    const km = mountOf(mounts, iniValue(text, 'authority', 'key'));
    if (!km || !km.v.secret) fail(cw, 'the authority key is not from a Secret');
    const sm = mountOf(mounts, iniValue(text, 'authority', 'store'));
    if (!sm || !sm.v.claim) fail(cw, 'the authority store is not on a PersistentVolumeClaim');
    if ((pod.securityContext || {}).fsGroupChangePolicy !== 'OnRootMismatch')
      fail(cw, 'authority pod: fsGroupChangePolicy is not OnRootMismatch (the store would be made group-writable)');
  }
}

function checkNetworkPolicy(where, doc, nodePods) {
  const sel = (doc.spec.podSelector || {}).matchLabels || {};
  const name = sel['app.kubernetes.io/name'];
  if (!nodePods.has(name)) return; // e.g. the database's own policy
  nodePolicies++;
  if (!eq(doc.spec.policyTypes, ['Ingress'])) fail(where, 'policyTypes is not [Ingress]');
  const ports = [];
  for (const rule of doc.spec.ingress || [])
    for (const p of rule.ports || []) ports.push(p);
  if (ports.length === 0 || (doc.spec.ingress || []).some((r) => !r.ports))
    fail(where, 'an ingress rule without ports admits every port');
  for (const p of ports)
    if (p.port !== NODE_PORT || (p.protocol || 'TCP') !== 'TCP')
      fail(where, `admits ${p.protocol || 'TCP'}/${p.port}, not only the node port ${NODE_PORT}`);
}

for (const file of files) {
  const base = path.basename(file, '.yaml');
  const docs = yaml.safeLoadAll(fs.readFileSync(file, 'utf8')).filter((d) => d != null);
  const configMaps = {};
  const nodePods = new Set();
  for (const [i, doc] of docs.entries()) {
    const where = `${base}.yaml document ${i + 1} (${doc.kind} ${(doc.metadata || {}).name})`;
    const cls = classes[`${doc.apiVersion}/${doc.kind}`];
    if (!cls) { fail(where, `no model for ${doc.apiVersion} ${doc.kind}`); continue; }
    try {
      new cls(doc).validate();
    } catch (e) {
      fail(where, `schema: ${e.message}`);
      continue;
    }
    objects++;
    if (doc.kind === 'ConfigMap') configMaps[doc.metadata.name] = doc;
  }
  for (const [i, doc] of docs.entries()) {
    const where = `${base}.yaml document ${i + 1} (${doc.kind} ${(doc.metadata || {}).name})`;
    if (doc.kind === 'Deployment' || doc.kind === 'StatefulSet') {
      checkPod(where, doc, configMaps);
      const ports = [];
      for (const c of doc.spec.template.spec.containers || [])
        for (const p of c.ports || []) ports.push(p.containerPort);
      if (ports.includes(NODE_PORT))
        nodePods.add(doc.spec.template.metadata.labels['app.kubernetes.io/name']);
      if (doc.kind === 'StatefulSet') {
        const svc = docs.find((d) => d.kind === 'Service' && d.metadata.name === doc.spec.serviceName);
        if (!svc || svc.spec.clusterIP !== 'None')
          fail(where, `serviceName ${doc.spec.serviceName} is not a headless Service in the file`);
      }
    }
  }
  for (const [i, doc] of docs.entries()) {
    const where = `${base}.yaml document ${i + 1} (${doc.kind} ${(doc.metadata || {}).name})`;
    if (doc.kind === 'NetworkPolicy') checkNetworkPolicy(where, doc, nodePods);
  }
  // Pods that accept node connections must be covered by a NetworkPolicy.
  for (const name of nodePods) {
    if (!docs.some((d) => d.kind === 'NetworkPolicy' &&
        ((d.spec.podSelector || {}).matchLabels || {})['app.kubernetes.io/name'] === name))
      fail(`${base}.yaml`, `no NetworkPolicy for the node pods ${name}`);
  }
  for (const cm of Object.values(configMaps)) {
    const text = (cm.data || {})['node.ini'];
    if (!text) continue;
    if (!/^\[node\][^[]*^reload\s*=\s*watch\s*$/m.test(text))
      fail(`${base}.yaml ConfigMap ${cm.metadata.name}`, 'node.ini has no [node] reload = watch');
    if (!/^admin\s*=\s*127\.0\.0\.1:9400\s*$/m.test(text))
      fail(`${base}.yaml ConfigMap ${cm.metadata.name}`, 'node.ini has no admin = 127.0.0.1:9400 (the probes)');
    inis++;
    fs.writeFileSync(path.join(outdir, `${String(inis).padStart(2, '0')}-${base}-${cm.metadata.name}.ini`), text);
  }
}

if (sidecars === 0) fail('manifests', 'no native sidecar at all');
if (nodePolicies === 0) fail('manifests', 'no NetworkPolicy for node pods');
if (enrolling === 0) fail('manifests', 'no node enrols');
if (authorities === 0) fail('manifests', 'no authority');
console.log(`objects=${objects} node_ini=${inis} native_sidecars=${sidecars} node_policies=${nodePolicies} enrolling=${enrolling} authorities=${authorities}`);
process.exit(failures ? 1 : 0);
