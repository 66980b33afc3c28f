/**
 * Protobuf message tables of the Kubernetes API types that clients send as
 * `application/vnd.kubernetes.protobuf`.
 *
 * Each message is one string of `;`-separated fields, each `jsonName number type[flag]`:
 * - `type` is a scalar (`string`, `bytes`, `bool`, `int32`, `int64`, `double`), a message name
 *   (capitalised; bare names resolve within the same group/version, others are qualified like
 *   `meta.v1.ObjectMeta`), or a type with its own JSON form: `time` (metav1.Time), `microTime`,
 *   `duration` (metav1.Duration), `intOrString`, `quantity`, `rawExtension`, `fieldsV1`, and
 *   `stringList` (a `[]string` named type that protobuf wraps as `{ repeated string items = 1 }`,
 *   e.g. authentication's ExtraValue).
 * - `[]T` is a repeated field, `map[string]T` a map (entries `{ key = 1, value = 2 }`).
 * - The JSON name `...` marks a Go struct embedded with `json:",inline"`: its own message on the
 *   wire (e.g. Volume.volumeSource, Probe.handler), merged into the parent object in JSON.
 * - Flags on scalars decide what a zero value means, because Go's marshaller writes non-pointer
 *   fields even when they hold the zero value: `?` is a pointer field (present means set, so a
 *   zero is kept: `replicas: 0`, `gracePeriodSeconds: 0`); `!` is a field whose JSON tag has no
 *   `omitempty` (JSON always carries it). Without a flag a zero value is omitted, as
 *   `omitempty` does in Go's JSON encoding.
 *
 * Field numbers, names, Go pointer-ness and `omitempty` are those of the Kubernetes 1.33 API
 * types (k8s.io/api and k8s.io/apimachinery, as declared in their generated.proto files and
 * Go struct tags), restricted to the types reachable from the kinds in {@link KIND_MESSAGES}.
 */

export type ScalarType = 'string' | 'bytes' | 'bool' | 'int32' | 'int64' | 'double';
export type SpecialType =
  'time' | 'microTime' | 'duration' | 'intOrString' | 'quantity' | 'rawExtension' | 'fieldsV1' | 'stringList';

export type ValueType =
  { kind: 'scalar'; scalar: ScalarType } | { kind: 'special'; special: SpecialType } | { kind: 'message'; message: string };

export interface FieldSchema {
  number: number;
  /** JSON property name, or undefined for an inlined embedded struct. */
  json: string | undefined;
  type: ValueType;
  cardinality: 'single' | 'repeated' | 'map';
  /** For single scalars: keep the zero value (pointer field, or JSON without omitempty). */
  keepZero: boolean;
}

export interface MessageSchema {
  name: string;
  fields: ReadonlyMap<number, FieldSchema>;
}

const SCALARS: ReadonlySet<string> = new Set(['string', 'bytes', 'bool', 'int32', 'int64', 'double']);
const SPECIALS: ReadonlySet<string> = new Set([
  'time',
  'microTime',
  'duration',
  'intOrString',
  'quantity',
  'rawExtension',
  'fieldsV1',
  'stringList',
]);

const MESSAGE_TABLES: Record<string, Record<string, string>> = {
  'meta.v1': {
    Condition:
      'type 1 string!; status 2 string!; observedGeneration 3 int64; lastTransitionTime 4 time; reason 5 string!; message 6 string!',
    DeleteOptions:
      'gracePeriodSeconds 1 int64?; preconditions 2 Preconditions; orphanDependents 3 bool?; propagationPolicy 4 string?; dryRun 5 []string; ignoreStoreReadErrorWithClusterBreakingPotential 6 bool?',
    FieldSelectorRequirement: 'key 1 string!; operator 2 string!; values 3 []string',
    LabelSelector: 'matchLabels 1 map[string]string; matchExpressions 2 []LabelSelectorRequirement',
    LabelSelectorRequirement: 'key 1 string!; operator 2 string!; values 3 []string',
    ListMeta: 'selfLink 1 string; resourceVersion 2 string; continue 3 string; remainingItemCount 4 int64?',
    ManagedFieldsEntry:
      'manager 1 string; operation 2 string; apiVersion 3 string; time 4 time; fieldsType 6 string; fieldsV1 7 fieldsV1; subresource 8 string',
    ObjectMeta:
      'name 1 string; generateName 2 string; namespace 3 string; selfLink 4 string; uid 5 string; resourceVersion 6 string; generation 7 int64; creationTimestamp 8 time; deletionTimestamp 9 time; deletionGracePeriodSeconds 10 int64?; labels 11 map[string]string; annotations 12 map[string]string; ownerReferences 13 []OwnerReference; finalizers 14 []string; managedFields 17 []ManagedFieldsEntry',
    OwnerReference:
      'apiVersion 5 string!; kind 1 string!; name 3 string!; uid 4 string!; controller 6 bool?; blockOwnerDeletion 7 bool?',
    Preconditions: 'uid 1 string?; resourceVersion 2 string?',
    Status: 'metadata 1 ListMeta; status 2 string; message 3 string; reason 4 string; details 5 StatusDetails; code 6 int32',
    StatusCause: 'reason 1 string; message 2 string; field 3 string',
    StatusDetails:
      'name 1 string; group 2 string; kind 3 string; uid 6 string; causes 4 []StatusCause; retryAfterSeconds 5 int32',
  },
  'core.v1': {
    AWSElasticBlockStoreVolumeSource: 'volumeID 1 string!; fsType 2 string; partition 3 int32; readOnly 4 bool',
    Affinity: 'nodeAffinity 1 NodeAffinity; podAffinity 2 PodAffinity; podAntiAffinity 3 PodAntiAffinity',
    AppArmorProfile: 'type 1 string!; localhostProfile 2 string?',
    AttachedVolume: 'name 1 string!; devicePath 2 string!',
    AzureDiskVolumeSource:
      'diskName 1 string!; diskURI 2 string!; cachingMode 3 string?; fsType 4 string?; readOnly 5 bool?; kind 6 string?',
    AzureFilePersistentVolumeSource: 'secretName 1 string!; shareName 2 string!; readOnly 3 bool; secretNamespace 4 string?',
    AzureFileVolumeSource: 'secretName 1 string!; shareName 2 string!; readOnly 3 bool',
    Binding: 'metadata 1 meta.v1.ObjectMeta; target 2 ObjectReference',
    CSIPersistentVolumeSource:
      'driver 1 string!; volumeHandle 2 string!; readOnly 3 bool; fsType 4 string; volumeAttributes 5 map[string]string; controllerPublishSecretRef 6 SecretReference; nodeStageSecretRef 7 SecretReference; nodePublishSecretRef 8 SecretReference; controllerExpandSecretRef 9 SecretReference; nodeExpandSecretRef 10 SecretReference',
    CSIVolumeSource:
      'driver 1 string!; readOnly 2 bool?; fsType 3 string?; volumeAttributes 4 map[string]string; nodePublishSecretRef 5 LocalObjectReference',
    Capabilities: 'add 1 []string; drop 2 []string',
    CephFSPersistentVolumeSource:
      'monitors 1 []string; path 2 string; user 3 string; secretFile 4 string; secretRef 5 SecretReference; readOnly 6 bool',
    CephFSVolumeSource:
      'monitors 1 []string; path 2 string; user 3 string; secretFile 4 string; secretRef 5 LocalObjectReference; readOnly 6 bool',
    CinderPersistentVolumeSource: 'volumeID 1 string!; fsType 2 string; readOnly 3 bool; secretRef 4 SecretReference',
    CinderVolumeSource: 'volumeID 1 string!; fsType 2 string; readOnly 3 bool; secretRef 4 LocalObjectReference',
    ClientIPConfig: 'timeoutSeconds 1 int32?',
    ClusterTrustBundleProjection:
      'name 1 string?; signerName 2 string?; labelSelector 3 meta.v1.LabelSelector; optional 5 bool?; path 4 string!',
    ConfigMap: 'metadata 1 meta.v1.ObjectMeta; immutable 4 bool?; data 2 map[string]string; binaryData 3 map[string]bytes',
    ConfigMapEnvSource: '... 1 LocalObjectReference; optional 2 bool?',
    ConfigMapKeySelector: '... 1 LocalObjectReference; key 2 string!; optional 3 bool?',
    ConfigMapNodeConfigSource:
      'namespace 1 string!; name 2 string!; uid 3 string; resourceVersion 4 string; kubeletConfigKey 5 string!',
    ConfigMapProjection: '... 1 LocalObjectReference; items 2 []KeyToPath; optional 4 bool?',
    ConfigMapVolumeSource: '... 1 LocalObjectReference; items 2 []KeyToPath; defaultMode 3 int32?; optional 4 bool?',
    Container:
      'name 1 string!; image 2 string; command 3 []string; args 4 []string; workingDir 5 string; ports 6 []ContainerPort; envFrom 19 []EnvFromSource; env 7 []EnvVar; resources 8 ResourceRequirements; resizePolicy 23 []ContainerResizePolicy; restartPolicy 24 string?; volumeMounts 9 []VolumeMount; volumeDevices 21 []VolumeDevice; livenessProbe 10 Probe; readinessProbe 11 Probe; startupProbe 22 Probe; lifecycle 12 Lifecycle; terminationMessagePath 13 string; terminationMessagePolicy 20 string; imagePullPolicy 14 string; securityContext 15 SecurityContext; stdin 16 bool; stdinOnce 17 bool; tty 18 bool',
    ContainerImage: 'names 1 []string; sizeBytes 2 int64',
    ContainerPort: 'name 1 string; hostPort 2 int32; containerPort 3 int32!; protocol 4 string; hostIP 5 string',
    ContainerResizePolicy: 'resourceName 1 string!; restartPolicy 2 string!',
    ContainerState: 'waiting 1 ContainerStateWaiting; running 2 ContainerStateRunning; terminated 3 ContainerStateTerminated',
    ContainerStateRunning: 'startedAt 1 time',
    ContainerStateTerminated:
      'exitCode 1 int32!; signal 2 int32; reason 3 string; message 4 string; startedAt 5 time; finishedAt 6 time; containerID 7 string',
    ContainerStateWaiting: 'reason 1 string; message 2 string',
    ContainerStatus:
      'name 1 string!; state 2 ContainerState; lastState 3 ContainerState; ready 4 bool!; restartCount 5 int32!; image 6 string!; imageID 7 string!; containerID 8 string; started 9 bool?; allocatedResources 10 map[string]quantity; resources 11 ResourceRequirements; volumeMounts 12 []VolumeMountStatus; user 13 ContainerUser; allocatedResourcesStatus 14 []ResourceStatus; stopSignal 15 string?',
    ContainerUser: 'linux 1 LinuxContainerUser',
    DaemonEndpoint: 'Port 1 int32!',
    DownwardAPIProjection: 'items 1 []DownwardAPIVolumeFile',
    DownwardAPIVolumeFile:
      'path 1 string!; fieldRef 2 ObjectFieldSelector; resourceFieldRef 3 ResourceFieldSelector; mode 4 int32?',
    DownwardAPIVolumeSource: 'items 1 []DownwardAPIVolumeFile; defaultMode 2 int32?',
    EmptyDirVolumeSource: 'medium 1 string; sizeLimit 2 quantity',
    EndpointAddress: 'ip 1 string!; hostname 3 string; nodeName 4 string?; targetRef 2 ObjectReference',
    EndpointPort: 'name 1 string; port 2 int32!; protocol 3 string; appProtocol 4 string?',
    EndpointSubset: 'addresses 1 []EndpointAddress; notReadyAddresses 2 []EndpointAddress; ports 3 []EndpointPort',
    Endpoints: 'metadata 1 meta.v1.ObjectMeta; subsets 2 []EndpointSubset',
    EnvFromSource: 'prefix 1 string; configMapRef 2 ConfigMapEnvSource; secretRef 3 SecretEnvSource',
    EnvVar: 'name 1 string!; value 2 string; valueFrom 3 EnvVarSource',
    EnvVarSource:
      'fieldRef 1 ObjectFieldSelector; resourceFieldRef 2 ResourceFieldSelector; configMapKeyRef 3 ConfigMapKeySelector; secretKeyRef 4 SecretKeySelector',
    EphemeralContainer: '... 1 EphemeralContainerCommon; targetContainerName 2 string',
    EphemeralContainerCommon:
      'name 1 string!; image 2 string; command 3 []string; args 4 []string; workingDir 5 string; ports 6 []ContainerPort; envFrom 19 []EnvFromSource; env 7 []EnvVar; resources 8 ResourceRequirements; resizePolicy 23 []ContainerResizePolicy; restartPolicy 24 string?; volumeMounts 9 []VolumeMount; volumeDevices 21 []VolumeDevice; livenessProbe 10 Probe; readinessProbe 11 Probe; startupProbe 22 Probe; lifecycle 12 Lifecycle; terminationMessagePath 13 string; terminationMessagePolicy 20 string; imagePullPolicy 14 string; securityContext 15 SecurityContext; stdin 16 bool; stdinOnce 17 bool; tty 18 bool',
    EphemeralVolumeSource: 'volumeClaimTemplate 1 PersistentVolumeClaimTemplate',
    Event:
      'metadata 1 meta.v1.ObjectMeta; involvedObject 2 ObjectReference; reason 3 string; message 4 string; source 5 EventSource; firstTimestamp 6 time; lastTimestamp 7 time; count 8 int32; type 9 string; eventTime 10 microTime; series 11 EventSeries; action 12 string; related 13 ObjectReference; reportingComponent 14 string!; reportingInstance 15 string!',
    EventSeries: 'count 1 int32; lastObservedTime 2 microTime',
    EventSource: 'component 1 string; host 2 string',
    ExecAction: 'command 1 []string',
    FCVolumeSource: 'targetWWNs 1 []string; lun 2 int32?; fsType 3 string; readOnly 4 bool; wwids 5 []string',
    FlexPersistentVolumeSource:
      'driver 1 string!; fsType 2 string; secretRef 3 SecretReference; readOnly 4 bool; options 5 map[string]string',
    FlexVolumeSource:
      'driver 1 string!; fsType 2 string; secretRef 3 LocalObjectReference; readOnly 4 bool; options 5 map[string]string',
    FlockerVolumeSource: 'datasetName 1 string; datasetUUID 2 string',
    GCEPersistentDiskVolumeSource: 'pdName 1 string!; fsType 2 string; partition 3 int32; readOnly 4 bool',
    GRPCAction: 'port 1 int32!; service 2 string?',
    GitRepoVolumeSource: 'repository 1 string!; revision 2 string; directory 3 string',
    GlusterfsPersistentVolumeSource: 'endpoints 1 string!; path 2 string!; readOnly 3 bool; endpointsNamespace 4 string?',
    GlusterfsVolumeSource: 'endpoints 1 string!; path 2 string!; readOnly 3 bool',
    HTTPGetAction: 'path 1 string; port 2 intOrString; host 3 string; scheme 4 string; httpHeaders 5 []HTTPHeader',
    HTTPHeader: 'name 1 string!; value 2 string!',
    HostAlias: 'ip 1 string!; hostnames 2 []string',
    HostIP: 'ip 1 string!',
    HostPathVolumeSource: 'path 1 string!; type 2 string?',
    ISCSIPersistentVolumeSource:
      'targetPortal 1 string!; iqn 2 string!; lun 3 int32!; iscsiInterface 4 string; fsType 5 string; readOnly 6 bool; portals 7 []string; chapAuthDiscovery 8 bool; chapAuthSession 11 bool; secretRef 10 SecretReference; initiatorName 12 string?',
    ISCSIVolumeSource:
      'targetPortal 1 string!; iqn 2 string!; lun 3 int32!; iscsiInterface 4 string; fsType 5 string; readOnly 6 bool; portals 7 []string; chapAuthDiscovery 8 bool; chapAuthSession 11 bool; secretRef 10 LocalObjectReference; initiatorName 12 string?',
    ImageVolumeSource: 'reference 1 string; pullPolicy 2 string',
    KeyToPath: 'key 1 string!; path 2 string!; mode 3 int32?',
    Lifecycle: 'postStart 1 LifecycleHandler; preStop 2 LifecycleHandler; stopSignal 3 string?',
    LifecycleHandler: 'exec 1 ExecAction; httpGet 2 HTTPGetAction; tcpSocket 3 TCPSocketAction; sleep 4 SleepAction',
    LimitRange: 'metadata 1 meta.v1.ObjectMeta; spec 2 LimitRangeSpec',
    LimitRangeItem:
      'type 1 string!; max 2 map[string]quantity; min 3 map[string]quantity; default 4 map[string]quantity; defaultRequest 5 map[string]quantity; maxLimitRequestRatio 6 map[string]quantity',
    LimitRangeSpec: 'limits 1 []LimitRangeItem',
    LinuxContainerUser: 'uid 1 int64!; gid 2 int64!; supplementalGroups 3 []int64',
    LoadBalancerIngress: 'ip 1 string; hostname 2 string; ipMode 3 string?; ports 4 []PortStatus',
    LoadBalancerStatus: 'ingress 1 []LoadBalancerIngress',
    LocalObjectReference: 'name 1 string',
    LocalVolumeSource: 'path 1 string!; fsType 2 string?',
    ModifyVolumeStatus: 'targetVolumeAttributesClassName 1 string; status 2 string!',
    NFSVolumeSource: 'server 1 string!; path 2 string!; readOnly 3 bool',
    Namespace: 'metadata 1 meta.v1.ObjectMeta; spec 2 NamespaceSpec; status 3 NamespaceStatus',
    NamespaceCondition: 'type 1 string!; status 2 string!; lastTransitionTime 4 time; reason 5 string; message 6 string',
    NamespaceSpec: 'finalizers 1 []string',
    NamespaceStatus: 'phase 1 string; conditions 2 []NamespaceCondition',
    Node: 'metadata 1 meta.v1.ObjectMeta; spec 2 NodeSpec; status 3 NodeStatus',
    NodeAddress: 'type 1 string!; address 2 string!',
    NodeAffinity:
      'requiredDuringSchedulingIgnoredDuringExecution 1 NodeSelector; preferredDuringSchedulingIgnoredDuringExecution 2 []PreferredSchedulingTerm',
    NodeCondition:
      'type 1 string!; status 2 string!; lastHeartbeatTime 3 time; lastTransitionTime 4 time; reason 5 string; message 6 string',
    NodeConfigSource: 'configMap 2 ConfigMapNodeConfigSource',
    NodeConfigStatus: 'assigned 1 NodeConfigSource; active 2 NodeConfigSource; lastKnownGood 3 NodeConfigSource; error 4 string',
    NodeDaemonEndpoints: 'kubeletEndpoint 1 DaemonEndpoint',
    NodeFeatures: 'supplementalGroupsPolicy 1 bool?',
    NodeRuntimeHandler: 'name 1 string!; features 2 NodeRuntimeHandlerFeatures',
    NodeRuntimeHandlerFeatures: 'recursiveReadOnlyMounts 1 bool?; userNamespaces 2 bool?',
    NodeSelector: 'nodeSelectorTerms 1 []NodeSelectorTerm',
    NodeSelectorRequirement: 'key 1 string!; operator 2 string!; values 3 []string',
    NodeSelectorTerm: 'matchExpressions 1 []NodeSelectorRequirement; matchFields 2 []NodeSelectorRequirement',
    NodeSpec:
      'podCIDR 1 string; podCIDRs 7 []string; providerID 3 string; unschedulable 4 bool; taints 5 []Taint; configSource 6 NodeConfigSource; externalID 2 string',
    NodeStatus:
      'capacity 1 map[string]quantity; allocatable 2 map[string]quantity; phase 3 string; conditions 4 []NodeCondition; addresses 5 []NodeAddress; daemonEndpoints 6 NodeDaemonEndpoints; nodeInfo 7 NodeSystemInfo; images 8 []ContainerImage; volumesInUse 9 []string; volumesAttached 10 []AttachedVolume; config 11 NodeConfigStatus; runtimeHandlers 12 []NodeRuntimeHandler; features 13 NodeFeatures',
    NodeSwapStatus: 'capacity 1 int64?',
    NodeSystemInfo:
      'machineID 1 string!; systemUUID 2 string!; bootID 3 string!; kernelVersion 4 string!; osImage 5 string!; containerRuntimeVersion 6 string!; kubeletVersion 7 string!; kubeProxyVersion 8 string!; operatingSystem 9 string!; architecture 10 string!; swap 11 NodeSwapStatus',
    ObjectFieldSelector: 'apiVersion 1 string; fieldPath 2 string!',
    ObjectReference:
      'kind 1 string; namespace 2 string; name 3 string; uid 4 string; apiVersion 5 string; resourceVersion 6 string; fieldPath 7 string',
    PersistentVolume: 'metadata 1 meta.v1.ObjectMeta; spec 2 PersistentVolumeSpec; status 3 PersistentVolumeStatus',
    PersistentVolumeClaim:
      'metadata 1 meta.v1.ObjectMeta; spec 2 PersistentVolumeClaimSpec; status 3 PersistentVolumeClaimStatus',
    PersistentVolumeClaimCondition:
      'type 1 string!; status 2 string!; lastProbeTime 3 time; lastTransitionTime 4 time; reason 5 string; message 6 string',
    PersistentVolumeClaimSpec:
      'accessModes 1 []string; selector 4 meta.v1.LabelSelector; resources 2 VolumeResourceRequirements; volumeName 3 string; storageClassName 5 string?; volumeMode 6 string?; dataSource 7 TypedLocalObjectReference; dataSourceRef 8 TypedObjectReference; volumeAttributesClassName 9 string?',
    PersistentVolumeClaimStatus:
      'phase 1 string; accessModes 2 []string; capacity 3 map[string]quantity; conditions 4 []PersistentVolumeClaimCondition; allocatedResources 5 map[string]quantity; allocatedResourceStatuses 7 map[string]string; currentVolumeAttributesClassName 8 string?; modifyVolumeStatus 9 ModifyVolumeStatus',
    PersistentVolumeClaimTemplate: 'metadata 1 meta.v1.ObjectMeta; spec 2 PersistentVolumeClaimSpec',
    PersistentVolumeClaimVolumeSource: 'claimName 1 string!; readOnly 2 bool',
    PersistentVolumeSource:
      'gcePersistentDisk 1 GCEPersistentDiskVolumeSource; awsElasticBlockStore 2 AWSElasticBlockStoreVolumeSource; hostPath 3 HostPathVolumeSource; glusterfs 4 GlusterfsPersistentVolumeSource; nfs 5 NFSVolumeSource; rbd 6 RBDPersistentVolumeSource; iscsi 7 ISCSIPersistentVolumeSource; cinder 8 CinderPersistentVolumeSource; cephfs 9 CephFSPersistentVolumeSource; fc 10 FCVolumeSource; flocker 11 FlockerVolumeSource; flexVolume 12 FlexPersistentVolumeSource; azureFile 13 AzureFilePersistentVolumeSource; vsphereVolume 14 VsphereVirtualDiskVolumeSource; quobyte 15 QuobyteVolumeSource; azureDisk 16 AzureDiskVolumeSource; photonPersistentDisk 17 PhotonPersistentDiskVolumeSource; portworxVolume 18 PortworxVolumeSource; scaleIO 19 ScaleIOPersistentVolumeSource; local 20 LocalVolumeSource; storageos 21 StorageOSPersistentVolumeSource; csi 22 CSIPersistentVolumeSource',
    PersistentVolumeSpec:
      'capacity 1 map[string]quantity; ... 2 PersistentVolumeSource; accessModes 3 []string; claimRef 4 ObjectReference; persistentVolumeReclaimPolicy 5 string; storageClassName 6 string; mountOptions 7 []string; volumeMode 8 string?; nodeAffinity 9 VolumeNodeAffinity; volumeAttributesClassName 10 string?',
    PersistentVolumeStatus: 'phase 1 string; message 2 string; reason 3 string; lastPhaseTransitionTime 4 time',
    PhotonPersistentDiskVolumeSource: 'pdID 1 string!; fsType 2 string',
    Pod: 'metadata 1 meta.v1.ObjectMeta; spec 2 PodSpec; status 3 PodStatus',
    PodAffinity:
      'requiredDuringSchedulingIgnoredDuringExecution 1 []PodAffinityTerm; preferredDuringSchedulingIgnoredDuringExecution 2 []WeightedPodAffinityTerm',
    PodAffinityTerm:
      'labelSelector 1 meta.v1.LabelSelector; namespaces 2 []string; topologyKey 3 string!; namespaceSelector 4 meta.v1.LabelSelector; matchLabelKeys 5 []string; mismatchLabelKeys 6 []string',
    PodAntiAffinity:
      'requiredDuringSchedulingIgnoredDuringExecution 1 []PodAffinityTerm; preferredDuringSchedulingIgnoredDuringExecution 2 []WeightedPodAffinityTerm',
    PodCondition:
      'type 1 string!; observedGeneration 7 int64; status 2 string!; lastProbeTime 3 time; lastTransitionTime 4 time; reason 5 string; message 6 string',
    PodDNSConfig: 'nameservers 1 []string; searches 2 []string; options 3 []PodDNSConfigOption',
    PodDNSConfigOption: 'name 1 string; value 2 string?',
    PodIP: 'ip 1 string!',
    PodOS: 'name 1 string!',
    PodReadinessGate: 'conditionType 1 string!',
    PodResourceClaim: 'name 1 string!; resourceClaimName 3 string?; resourceClaimTemplateName 4 string?',
    PodResourceClaimStatus: 'name 1 string!; resourceClaimName 2 string?',
    PodSchedulingGate: 'name 1 string!',
    PodSecurityContext:
      'seLinuxOptions 1 SELinuxOptions; windowsOptions 8 WindowsSecurityContextOptions; runAsUser 2 int64?; runAsGroup 6 int64?; runAsNonRoot 3 bool?; supplementalGroups 4 []int64; supplementalGroupsPolicy 12 string?; fsGroup 5 int64?; sysctls 7 []Sysctl; fsGroupChangePolicy 9 string?; seccompProfile 10 SeccompProfile; appArmorProfile 11 AppArmorProfile; seLinuxChangePolicy 13 string?',
    PodSpec:
      'volumes 1 []Volume; initContainers 20 []Container; containers 2 []Container; ephemeralContainers 34 []EphemeralContainer; restartPolicy 3 string; terminationGracePeriodSeconds 4 int64?; activeDeadlineSeconds 5 int64?; dnsPolicy 6 string; nodeSelector 7 map[string]string; serviceAccountName 8 string; serviceAccount 9 string; automountServiceAccountToken 21 bool?; nodeName 10 string; hostNetwork 11 bool; hostPID 12 bool; hostIPC 13 bool; shareProcessNamespace 27 bool?; securityContext 14 PodSecurityContext; imagePullSecrets 15 []LocalObjectReference; hostname 16 string; subdomain 17 string; affinity 18 Affinity; schedulerName 19 string; tolerations 22 []Toleration; hostAliases 23 []HostAlias; priorityClassName 24 string; priority 25 int32?; dnsConfig 26 PodDNSConfig; readinessGates 28 []PodReadinessGate; runtimeClassName 29 string?; enableServiceLinks 30 bool?; preemptionPolicy 31 string?; overhead 32 map[string]quantity; topologySpreadConstraints 33 []TopologySpreadConstraint; setHostnameAsFQDN 35 bool?; os 36 PodOS; hostUsers 37 bool?; schedulingGates 38 []PodSchedulingGate; resourceClaims 39 []PodResourceClaim; resources 40 ResourceRequirements',
    PodStatus:
      'observedGeneration 17 int64; phase 1 string; conditions 2 []PodCondition; message 3 string; reason 4 string; nominatedNodeName 11 string; hostIP 5 string; hostIPs 16 []HostIP; podIP 6 string; podIPs 12 []PodIP; startTime 7 time; initContainerStatuses 10 []ContainerStatus; containerStatuses 8 []ContainerStatus; qosClass 9 string; ephemeralContainerStatuses 13 []ContainerStatus; resize 14 string; resourceClaimStatuses 15 []PodResourceClaimStatus',
    PodTemplate: 'metadata 1 meta.v1.ObjectMeta; template 2 PodTemplateSpec',
    PodTemplateSpec: 'metadata 1 meta.v1.ObjectMeta; spec 2 PodSpec',
    PortStatus: 'port 1 int32!; protocol 2 string!; error 3 string?',
    PortworxVolumeSource: 'volumeID 1 string!; fsType 2 string; readOnly 3 bool',
    PreferredSchedulingTerm: 'weight 1 int32!; preference 2 NodeSelectorTerm',
    Probe:
      '... 1 ProbeHandler; initialDelaySeconds 2 int32; timeoutSeconds 3 int32; periodSeconds 4 int32; successThreshold 5 int32; failureThreshold 6 int32; terminationGracePeriodSeconds 7 int64?',
    ProbeHandler: 'exec 1 ExecAction; httpGet 2 HTTPGetAction; tcpSocket 3 TCPSocketAction; grpc 4 GRPCAction',
    ProjectedVolumeSource: 'sources 1 []VolumeProjection; defaultMode 2 int32?',
    QuobyteVolumeSource: 'registry 1 string!; volume 2 string!; readOnly 3 bool; user 4 string; group 5 string; tenant 6 string',
    RBDPersistentVolumeSource:
      'monitors 1 []string; image 2 string!; fsType 3 string; pool 4 string; user 5 string; keyring 6 string; secretRef 7 SecretReference; readOnly 8 bool',
    RBDVolumeSource:
      'monitors 1 []string; image 2 string!; fsType 3 string; pool 4 string; user 5 string; keyring 6 string; secretRef 7 LocalObjectReference; readOnly 8 bool',
    ReplicationController:
      'metadata 1 meta.v1.ObjectMeta; spec 2 ReplicationControllerSpec; status 3 ReplicationControllerStatus',
    ReplicationControllerCondition:
      'type 1 string!; status 2 string!; lastTransitionTime 3 time; reason 4 string; message 5 string',
    ReplicationControllerSpec:
      'replicas 1 int32?; minReadySeconds 4 int32; selector 2 map[string]string; template 3 PodTemplateSpec',
    ReplicationControllerStatus:
      'replicas 1 int32!; fullyLabeledReplicas 2 int32; readyReplicas 4 int32; availableReplicas 5 int32; observedGeneration 3 int64; conditions 6 []ReplicationControllerCondition',
    ResourceClaim: 'name 1 string!; request 2 string',
    ResourceFieldSelector: 'containerName 1 string; resource 2 string!; divisor 3 quantity',
    ResourceHealth: 'resourceID 1 string!; health 2 string',
    ResourceQuota: 'metadata 1 meta.v1.ObjectMeta; spec 2 ResourceQuotaSpec; status 3 ResourceQuotaStatus',
    ResourceQuotaSpec: 'hard 1 map[string]quantity; scopes 2 []string; scopeSelector 3 ScopeSelector',
    ResourceQuotaStatus: 'hard 1 map[string]quantity; used 2 map[string]quantity',
    ResourceRequirements: 'limits 1 map[string]quantity; requests 2 map[string]quantity; claims 3 []ResourceClaim',
    ResourceStatus: 'name 1 string!; resources 2 []ResourceHealth',
    SELinuxOptions: 'user 1 string; role 2 string; type 3 string; level 4 string',
    ScaleIOPersistentVolumeSource:
      'gateway 1 string!; system 2 string!; secretRef 3 SecretReference; sslEnabled 4 bool; protectionDomain 5 string; storagePool 6 string; storageMode 7 string; volumeName 8 string; fsType 9 string; readOnly 10 bool',
    ScaleIOVolumeSource:
      'gateway 1 string!; system 2 string!; secretRef 3 LocalObjectReference; sslEnabled 4 bool; protectionDomain 5 string; storagePool 6 string; storageMode 7 string; volumeName 8 string; fsType 9 string; readOnly 10 bool',
    ScopeSelector: 'matchExpressions 1 []ScopedResourceSelectorRequirement',
    ScopedResourceSelectorRequirement: 'scopeName 1 string!; operator 2 string!; values 3 []string',
    SeccompProfile: 'type 1 string!; localhostProfile 2 string?',
    Secret:
      'metadata 1 meta.v1.ObjectMeta; immutable 5 bool?; data 2 map[string]bytes; stringData 4 map[string]string; type 3 string',
    SecretEnvSource: '... 1 LocalObjectReference; optional 2 bool?',
    SecretKeySelector: '... 1 LocalObjectReference; key 2 string!; optional 3 bool?',
    SecretProjection: '... 1 LocalObjectReference; items 2 []KeyToPath; optional 4 bool?',
    SecretReference: 'name 1 string; namespace 2 string',
    SecretVolumeSource: 'secretName 1 string; items 2 []KeyToPath; defaultMode 3 int32?; optional 4 bool?',
    SecurityContext:
      'capabilities 1 Capabilities; privileged 2 bool?; seLinuxOptions 3 SELinuxOptions; windowsOptions 10 WindowsSecurityContextOptions; runAsUser 4 int64?; runAsGroup 8 int64?; runAsNonRoot 5 bool?; readOnlyRootFilesystem 6 bool?; allowPrivilegeEscalation 7 bool?; procMount 9 string?; seccompProfile 11 SeccompProfile; appArmorProfile 12 AppArmorProfile',
    Service: 'metadata 1 meta.v1.ObjectMeta; spec 2 ServiceSpec; status 3 ServiceStatus',
    ServiceAccount:
      'metadata 1 meta.v1.ObjectMeta; secrets 2 []ObjectReference; imagePullSecrets 3 []LocalObjectReference; automountServiceAccountToken 4 bool?',
    ServiceAccountTokenProjection: 'audience 1 string; expirationSeconds 2 int64?; path 3 string!',
    ServicePort:
      'name 1 string; protocol 2 string; appProtocol 6 string?; port 3 int32!; targetPort 4 intOrString; nodePort 5 int32',
    ServiceSpec:
      'ports 1 []ServicePort; selector 2 map[string]string; clusterIP 3 string; clusterIPs 18 []string; type 4 string; externalIPs 5 []string; sessionAffinity 7 string; loadBalancerIP 8 string; loadBalancerSourceRanges 9 []string; externalName 10 string; externalTrafficPolicy 11 string; healthCheckNodePort 12 int32; publishNotReadyAddresses 13 bool; sessionAffinityConfig 14 SessionAffinityConfig; ipFamilies 19 []string; ipFamilyPolicy 17 string?; allocateLoadBalancerNodePorts 20 bool?; loadBalancerClass 21 string?; internalTrafficPolicy 22 string?; trafficDistribution 23 string?',
    ServiceStatus: 'loadBalancer 1 LoadBalancerStatus; conditions 2 []meta.v1.Condition',
    SessionAffinityConfig: 'clientIP 1 ClientIPConfig',
    SleepAction: 'seconds 1 int64!',
    StorageOSPersistentVolumeSource:
      'volumeName 1 string; volumeNamespace 2 string; fsType 3 string; readOnly 4 bool; secretRef 5 ObjectReference',
    StorageOSVolumeSource:
      'volumeName 1 string; volumeNamespace 2 string; fsType 3 string; readOnly 4 bool; secretRef 5 LocalObjectReference',
    Sysctl: 'name 1 string!; value 2 string!',
    TCPSocketAction: 'port 1 intOrString; host 2 string',
    Taint: 'key 1 string!; value 2 string; effect 3 string!; timeAdded 4 time',
    Toleration: 'key 1 string; operator 2 string; value 3 string; effect 4 string; tolerationSeconds 5 int64?',
    TopologySelectorLabelRequirement: 'key 1 string!; values 2 []string',
    TopologySelectorTerm: 'matchLabelExpressions 1 []TopologySelectorLabelRequirement',
    TopologySpreadConstraint:
      'maxSkew 1 int32!; topologyKey 2 string!; whenUnsatisfiable 3 string!; labelSelector 4 meta.v1.LabelSelector; minDomains 5 int32?; nodeAffinityPolicy 6 string?; nodeTaintsPolicy 7 string?; matchLabelKeys 8 []string',
    TypedLocalObjectReference: 'apiGroup 1 string?; kind 2 string!; name 3 string!',
    TypedObjectReference: 'apiGroup 1 string?; kind 2 string!; name 3 string!; namespace 4 string?',
    Volume: 'name 1 string!; ... 2 VolumeSource',
    VolumeDevice: 'name 1 string!; devicePath 2 string!',
    VolumeMount:
      'name 1 string!; readOnly 2 bool; recursiveReadOnly 7 string?; mountPath 3 string!; subPath 4 string; mountPropagation 5 string?; subPathExpr 6 string',
    VolumeMountStatus: 'name 1 string!; mountPath 2 string!; readOnly 3 bool; recursiveReadOnly 4 string?',
    VolumeNodeAffinity: 'required 1 NodeSelector',
    VolumeProjection:
      'secret 1 SecretProjection; downwardAPI 2 DownwardAPIProjection; configMap 3 ConfigMapProjection; serviceAccountToken 4 ServiceAccountTokenProjection; clusterTrustBundle 5 ClusterTrustBundleProjection',
    VolumeResourceRequirements: 'limits 1 map[string]quantity; requests 2 map[string]quantity',
    VolumeSource:
      'hostPath 1 HostPathVolumeSource; emptyDir 2 EmptyDirVolumeSource; gcePersistentDisk 3 GCEPersistentDiskVolumeSource; awsElasticBlockStore 4 AWSElasticBlockStoreVolumeSource; gitRepo 5 GitRepoVolumeSource; secret 6 SecretVolumeSource; nfs 7 NFSVolumeSource; iscsi 8 ISCSIVolumeSource; glusterfs 9 GlusterfsVolumeSource; persistentVolumeClaim 10 PersistentVolumeClaimVolumeSource; rbd 11 RBDVolumeSource; flexVolume 12 FlexVolumeSource; cinder 13 CinderVolumeSource; cephfs 14 CephFSVolumeSource; flocker 15 FlockerVolumeSource; downwardAPI 16 DownwardAPIVolumeSource; fc 17 FCVolumeSource; azureFile 18 AzureFileVolumeSource; configMap 19 ConfigMapVolumeSource; vsphereVolume 20 VsphereVirtualDiskVolumeSource; quobyte 21 QuobyteVolumeSource; azureDisk 22 AzureDiskVolumeSource; photonPersistentDisk 23 PhotonPersistentDiskVolumeSource; projected 26 ProjectedVolumeSource; portworxVolume 24 PortworxVolumeSource; scaleIO 25 ScaleIOVolumeSource; storageos 27 StorageOSVolumeSource; csi 28 CSIVolumeSource; ephemeral 29 EphemeralVolumeSource; image 30 ImageVolumeSource',
    VsphereVirtualDiskVolumeSource: 'volumePath 1 string!; fsType 2 string; storagePolicyName 3 string; storagePolicyID 4 string',
    WeightedPodAffinityTerm: 'weight 1 int32!; podAffinityTerm 2 PodAffinityTerm',
    WindowsSecurityContextOptions:
      'gmsaCredentialSpecName 1 string?; gmsaCredentialSpec 2 string?; runAsUserName 3 string?; hostProcess 4 bool?',
  },
  'apps.v1': {
    ControllerRevision: 'metadata 1 meta.v1.ObjectMeta; data 2 rawExtension; revision 3 int64!',
    DaemonSet: 'metadata 1 meta.v1.ObjectMeta; spec 2 DaemonSetSpec; status 3 DaemonSetStatus',
    DaemonSetCondition: 'type 1 string!; status 2 string!; lastTransitionTime 3 time; reason 4 string; message 5 string',
    DaemonSetSpec:
      'selector 1 meta.v1.LabelSelector; template 2 core.v1.PodTemplateSpec; updateStrategy 3 DaemonSetUpdateStrategy; minReadySeconds 4 int32; revisionHistoryLimit 6 int32?',
    DaemonSetStatus:
      'currentNumberScheduled 1 int32!; numberMisscheduled 2 int32!; desiredNumberScheduled 3 int32!; numberReady 4 int32!; observedGeneration 5 int64; updatedNumberScheduled 6 int32; numberAvailable 7 int32; numberUnavailable 8 int32; collisionCount 9 int32?; conditions 10 []DaemonSetCondition',
    DaemonSetUpdateStrategy: 'type 1 string; rollingUpdate 2 RollingUpdateDaemonSet',
    Deployment: 'metadata 1 meta.v1.ObjectMeta; spec 2 DeploymentSpec; status 3 DeploymentStatus',
    DeploymentCondition:
      'type 1 string!; status 2 string!; lastUpdateTime 6 time; lastTransitionTime 7 time; reason 4 string; message 5 string',
    DeploymentSpec:
      'replicas 1 int32?; selector 2 meta.v1.LabelSelector; template 3 core.v1.PodTemplateSpec; strategy 4 DeploymentStrategy; minReadySeconds 5 int32; revisionHistoryLimit 6 int32?; paused 7 bool; progressDeadlineSeconds 9 int32?',
    DeploymentStatus:
      'observedGeneration 1 int64; replicas 2 int32; updatedReplicas 3 int32; readyReplicas 7 int32; availableReplicas 4 int32; unavailableReplicas 5 int32; terminatingReplicas 9 int32?; conditions 6 []DeploymentCondition; collisionCount 8 int32?',
    DeploymentStrategy: 'type 1 string; rollingUpdate 2 RollingUpdateDeployment',
    ReplicaSet: 'metadata 1 meta.v1.ObjectMeta; spec 2 ReplicaSetSpec; status 3 ReplicaSetStatus',
    ReplicaSetCondition: 'type 1 string!; status 2 string!; lastTransitionTime 3 time; reason 4 string; message 5 string',
    ReplicaSetSpec:
      'replicas 1 int32?; minReadySeconds 4 int32; selector 2 meta.v1.LabelSelector; template 3 core.v1.PodTemplateSpec',
    ReplicaSetStatus:
      'replicas 1 int32!; fullyLabeledReplicas 2 int32; readyReplicas 4 int32; availableReplicas 5 int32; terminatingReplicas 7 int32?; observedGeneration 3 int64; conditions 6 []ReplicaSetCondition',
    RollingUpdateDaemonSet: 'maxUnavailable 1 intOrString; maxSurge 2 intOrString',
    RollingUpdateDeployment: 'maxUnavailable 1 intOrString; maxSurge 2 intOrString',
    RollingUpdateStatefulSetStrategy: 'partition 1 int32?; maxUnavailable 2 intOrString',
    StatefulSet: 'metadata 1 meta.v1.ObjectMeta; spec 2 StatefulSetSpec; status 3 StatefulSetStatus',
    StatefulSetCondition: 'type 1 string!; status 2 string!; lastTransitionTime 3 time; reason 4 string; message 5 string',
    StatefulSetOrdinals: 'start 1 int32!',
    StatefulSetPersistentVolumeClaimRetentionPolicy: 'whenDeleted 1 string; whenScaled 2 string',
    StatefulSetSpec:
      'replicas 1 int32?; selector 2 meta.v1.LabelSelector; template 3 core.v1.PodTemplateSpec; volumeClaimTemplates 4 []core.v1.PersistentVolumeClaim; serviceName 5 string!; podManagementPolicy 6 string; updateStrategy 7 StatefulSetUpdateStrategy; revisionHistoryLimit 8 int32?; minReadySeconds 9 int32; persistentVolumeClaimRetentionPolicy 10 StatefulSetPersistentVolumeClaimRetentionPolicy; ordinals 11 StatefulSetOrdinals',
    StatefulSetStatus:
      'observedGeneration 1 int64; replicas 2 int32!; readyReplicas 3 int32; currentReplicas 4 int32; updatedReplicas 5 int32; currentRevision 6 string; updateRevision 7 string; collisionCount 9 int32?; conditions 10 []StatefulSetCondition; availableReplicas 11 int32!',
    StatefulSetUpdateStrategy: 'type 1 string; rollingUpdate 2 RollingUpdateStatefulSetStrategy',
  },
  'batch.v1': {
    CronJob: 'metadata 1 meta.v1.ObjectMeta; spec 2 CronJobSpec; status 3 CronJobStatus',
    CronJobSpec:
      'schedule 1 string!; timeZone 8 string?; startingDeadlineSeconds 2 int64?; concurrencyPolicy 3 string; suspend 4 bool?; jobTemplate 5 JobTemplateSpec; successfulJobsHistoryLimit 6 int32?; failedJobsHistoryLimit 7 int32?',
    CronJobStatus: 'active 1 []core.v1.ObjectReference; lastScheduleTime 4 time; lastSuccessfulTime 5 time',
    Job: 'metadata 1 meta.v1.ObjectMeta; spec 2 JobSpec; status 3 JobStatus',
    JobCondition:
      'type 1 string!; status 2 string!; lastProbeTime 3 time; lastTransitionTime 4 time; reason 5 string; message 6 string',
    JobSpec:
      'parallelism 1 int32?; completions 2 int32?; activeDeadlineSeconds 3 int64?; podFailurePolicy 11 PodFailurePolicy; successPolicy 16 SuccessPolicy; backoffLimit 7 int32?; backoffLimitPerIndex 12 int32?; maxFailedIndexes 13 int32?; selector 4 meta.v1.LabelSelector; manualSelector 5 bool?; template 6 core.v1.PodTemplateSpec; ttlSecondsAfterFinished 8 int32?; completionMode 9 string?; suspend 10 bool?; podReplacementPolicy 14 string?; managedBy 15 string?',
    JobStatus:
      'conditions 1 []JobCondition; startTime 2 time; completionTime 3 time; active 4 int32; succeeded 5 int32; failed 6 int32; terminating 11 int32?; completedIndexes 7 string; failedIndexes 10 string?; uncountedTerminatedPods 8 UncountedTerminatedPods; ready 9 int32?',
    JobTemplateSpec: 'metadata 1 meta.v1.ObjectMeta; spec 2 JobSpec',
    PodFailurePolicy: 'rules 1 []PodFailurePolicyRule',
    PodFailurePolicyOnExitCodesRequirement: 'containerName 1 string?; operator 2 string!; values 3 []int32',
    PodFailurePolicyOnPodConditionsPattern: 'type 1 string!; status 2 string!',
    PodFailurePolicyRule:
      'action 1 string!; onExitCodes 2 PodFailurePolicyOnExitCodesRequirement; onPodConditions 3 []PodFailurePolicyOnPodConditionsPattern',
    SuccessPolicy: 'rules 1 []SuccessPolicyRule',
    SuccessPolicyRule: 'succeededIndexes 1 string?; succeededCount 2 int32?',
    UncountedTerminatedPods: 'succeeded 1 []string; failed 2 []string',
  },
  'autoscaling.v1': {
    CrossVersionObjectReference: 'kind 1 string!; name 2 string!; apiVersion 3 string',
    HorizontalPodAutoscaler:
      'metadata 1 meta.v1.ObjectMeta; spec 2 HorizontalPodAutoscalerSpec; status 3 HorizontalPodAutoscalerStatus',
    HorizontalPodAutoscalerSpec:
      'scaleTargetRef 1 CrossVersionObjectReference; minReplicas 2 int32?; maxReplicas 3 int32!; targetCPUUtilizationPercentage 4 int32?',
    HorizontalPodAutoscalerStatus:
      'observedGeneration 1 int64?; lastScaleTime 2 time; currentReplicas 3 int32!; desiredReplicas 4 int32!; currentCPUUtilizationPercentage 5 int32?',
    Scale: 'metadata 1 meta.v1.ObjectMeta; spec 2 ScaleSpec; status 3 ScaleStatus',
    ScaleSpec: 'replicas 1 int32',
    ScaleStatus: 'replicas 1 int32!; selector 2 string',
  },
  'autoscaling.v2': {
    ContainerResourceMetricSource: 'name 1 string!; target 2 MetricTarget; container 3 string!',
    ContainerResourceMetricStatus: 'name 1 string!; current 2 MetricValueStatus; container 3 string!',
    CrossVersionObjectReference: 'kind 1 string!; name 2 string!; apiVersion 3 string',
    ExternalMetricSource: 'metric 1 MetricIdentifier; target 2 MetricTarget',
    ExternalMetricStatus: 'metric 1 MetricIdentifier; current 2 MetricValueStatus',
    HPAScalingPolicy: 'type 1 string!; value 2 int32!; periodSeconds 3 int32!',
    HPAScalingRules:
      'stabilizationWindowSeconds 3 int32?; selectPolicy 1 string?; policies 2 []HPAScalingPolicy; tolerance 4 quantity',
    HorizontalPodAutoscaler:
      'metadata 1 meta.v1.ObjectMeta; spec 2 HorizontalPodAutoscalerSpec; status 3 HorizontalPodAutoscalerStatus',
    HorizontalPodAutoscalerBehavior: 'scaleUp 1 HPAScalingRules; scaleDown 2 HPAScalingRules',
    HorizontalPodAutoscalerCondition:
      'type 1 string!; status 2 string!; lastTransitionTime 3 time; reason 4 string; message 5 string',
    HorizontalPodAutoscalerSpec:
      'scaleTargetRef 1 CrossVersionObjectReference; minReplicas 2 int32?; maxReplicas 3 int32!; metrics 4 []MetricSpec; behavior 5 HorizontalPodAutoscalerBehavior',
    HorizontalPodAutoscalerStatus:
      'observedGeneration 1 int64?; lastScaleTime 2 time; currentReplicas 3 int32; desiredReplicas 4 int32!; currentMetrics 5 []MetricStatus; conditions 6 []HorizontalPodAutoscalerCondition',
    MetricIdentifier: 'name 1 string!; selector 2 meta.v1.LabelSelector',
    MetricSpec:
      'type 1 string!; object 2 ObjectMetricSource; pods 3 PodsMetricSource; resource 4 ResourceMetricSource; containerResource 7 ContainerResourceMetricSource; external 5 ExternalMetricSource',
    MetricStatus:
      'type 1 string!; object 2 ObjectMetricStatus; pods 3 PodsMetricStatus; resource 4 ResourceMetricStatus; containerResource 7 ContainerResourceMetricStatus; external 5 ExternalMetricStatus',
    MetricTarget: 'type 1 string!; value 2 quantity; averageValue 3 quantity; averageUtilization 4 int32?',
    MetricValueStatus: 'value 1 quantity; averageValue 2 quantity; averageUtilization 3 int32?',
    ObjectMetricSource: 'describedObject 1 CrossVersionObjectReference; target 2 MetricTarget; metric 3 MetricIdentifier',
    ObjectMetricStatus: 'metric 1 MetricIdentifier; current 2 MetricValueStatus; describedObject 3 CrossVersionObjectReference',
    PodsMetricSource: 'metric 1 MetricIdentifier; target 2 MetricTarget',
    PodsMetricStatus: 'metric 1 MetricIdentifier; current 2 MetricValueStatus',
    ResourceMetricSource: 'name 1 string!; target 2 MetricTarget',
    ResourceMetricStatus: 'name 1 string!; current 2 MetricValueStatus',
  },
  'networking.v1': {
    HTTPIngressPath: 'path 1 string; pathType 3 string?; backend 2 IngressBackend',
    HTTPIngressRuleValue: 'paths 1 []HTTPIngressPath',
    IPBlock: 'cidr 1 string!; except 2 []string',
    Ingress: 'metadata 1 meta.v1.ObjectMeta; spec 2 IngressSpec; status 3 IngressStatus',
    IngressBackend: 'service 4 IngressServiceBackend; resource 3 core.v1.TypedLocalObjectReference',
    IngressClass: 'metadata 1 meta.v1.ObjectMeta; spec 2 IngressClassSpec',
    IngressClassParametersReference: 'apiGroup 1 string?; kind 2 string!; name 3 string!; scope 4 string?; namespace 5 string?',
    IngressClassSpec: 'controller 1 string; parameters 2 IngressClassParametersReference',
    IngressLoadBalancerIngress: 'ip 1 string; hostname 2 string; ports 4 []IngressPortStatus',
    IngressLoadBalancerStatus: 'ingress 1 []IngressLoadBalancerIngress',
    IngressPortStatus: 'port 1 int32!; protocol 2 string!; error 3 string?',
    IngressRule: 'host 1 string; ... 2 IngressRuleValue',
    IngressRuleValue: 'http 1 HTTPIngressRuleValue',
    IngressServiceBackend: 'name 1 string!; port 2 ServiceBackendPort',
    IngressSpec: 'ingressClassName 4 string?; defaultBackend 1 IngressBackend; tls 2 []IngressTLS; rules 3 []IngressRule',
    IngressStatus: 'loadBalancer 1 IngressLoadBalancerStatus',
    IngressTLS: 'hosts 1 []string; secretName 2 string',
    NetworkPolicy: 'metadata 1 meta.v1.ObjectMeta; spec 2 NetworkPolicySpec',
    NetworkPolicyEgressRule: 'ports 1 []NetworkPolicyPort; to 2 []NetworkPolicyPeer',
    NetworkPolicyIngressRule: 'ports 1 []NetworkPolicyPort; from 2 []NetworkPolicyPeer',
    NetworkPolicyPeer: 'podSelector 1 meta.v1.LabelSelector; namespaceSelector 2 meta.v1.LabelSelector; ipBlock 3 IPBlock',
    NetworkPolicyPort: 'protocol 1 string?; port 2 intOrString; endPort 3 int32?',
    NetworkPolicySpec:
      'podSelector 1 meta.v1.LabelSelector; ingress 2 []NetworkPolicyIngressRule; egress 3 []NetworkPolicyEgressRule; policyTypes 4 []string',
    ServiceBackendPort: 'name 1 string; number 2 int32',
  },
  'rbac.v1': {
    AggregationRule: 'clusterRoleSelectors 1 []meta.v1.LabelSelector',
    ClusterRole: 'metadata 1 meta.v1.ObjectMeta; rules 2 []PolicyRule; aggregationRule 3 AggregationRule',
    ClusterRoleBinding: 'metadata 1 meta.v1.ObjectMeta; subjects 2 []Subject; roleRef 3 RoleRef',
    PolicyRule:
      'verbs 1 []string; apiGroups 2 []string; resources 3 []string; resourceNames 4 []string; nonResourceURLs 5 []string',
    Role: 'metadata 1 meta.v1.ObjectMeta; rules 2 []PolicyRule',
    RoleBinding: 'metadata 1 meta.v1.ObjectMeta; subjects 2 []Subject; roleRef 3 RoleRef',
    RoleRef: 'apiGroup 1 string!; kind 2 string!; name 3 string!',
    Subject: 'kind 1 string!; apiGroup 2 string; name 3 string!; namespace 4 string',
  },
  'policy.v1': {
    Eviction: 'metadata 1 meta.v1.ObjectMeta; deleteOptions 2 meta.v1.DeleteOptions',
    PodDisruptionBudget: 'metadata 1 meta.v1.ObjectMeta; spec 2 PodDisruptionBudgetSpec; status 3 PodDisruptionBudgetStatus',
    PodDisruptionBudgetSpec:
      'minAvailable 1 intOrString; selector 2 meta.v1.LabelSelector; maxUnavailable 3 intOrString; unhealthyPodEvictionPolicy 4 string?',
    PodDisruptionBudgetStatus:
      'observedGeneration 1 int64; disruptedPods 2 map[string]time; disruptionsAllowed 3 int32!; currentHealthy 4 int32!; desiredHealthy 5 int32!; expectedPods 6 int32!; conditions 7 []meta.v1.Condition',
  },
  'scheduling.v1': {
    PriorityClass:
      'metadata 1 meta.v1.ObjectMeta; value 2 int32!; globalDefault 3 bool; description 4 string; preemptionPolicy 5 string?',
  },
  'storage.v1': {
    StorageClass:
      'metadata 1 meta.v1.ObjectMeta; provisioner 2 string!; parameters 3 map[string]string; reclaimPolicy 4 string?; mountOptions 5 []string; allowVolumeExpansion 6 bool?; volumeBindingMode 7 string?; allowedTopologies 8 []core.v1.TopologySelectorTerm',
  },
  'coordination.v1': {
    Lease: 'metadata 1 meta.v1.ObjectMeta; spec 2 LeaseSpec',
    LeaseSpec:
      'holderIdentity 1 string?; leaseDurationSeconds 2 int32?; acquireTime 3 microTime; renewTime 4 microTime; leaseTransitions 5 int32?; strategy 6 string?; preferredHolder 7 string?',
  },
  'discovery.v1': {
    Endpoint:
      'addresses 1 []string; conditions 2 EndpointConditions; hostname 3 string?; targetRef 4 core.v1.ObjectReference; deprecatedTopology 5 map[string]string; nodeName 6 string?; zone 7 string?; hints 8 EndpointHints',
    EndpointConditions: 'ready 1 bool?; serving 2 bool?; terminating 3 bool?',
    EndpointHints: 'forZones 1 []ForZone; forNodes 2 []ForNode',
    EndpointPort: 'name 1 string?; protocol 2 string?; port 3 int32?; appProtocol 4 string?',
    EndpointSlice: 'metadata 1 meta.v1.ObjectMeta; addressType 4 string!; endpoints 2 []Endpoint; ports 3 []EndpointPort',
    ForNode: 'name 1 string!',
    ForZone: 'name 1 string!',
  },
  'events.v1': {
    Event:
      'metadata 1 meta.v1.ObjectMeta; eventTime 2 microTime; series 3 EventSeries; reportingController 4 string; reportingInstance 5 string; action 6 string; reason 7 string; regarding 8 core.v1.ObjectReference; related 9 core.v1.ObjectReference; note 10 string; type 11 string; deprecatedSource 12 core.v1.EventSource; deprecatedFirstTimestamp 13 time; deprecatedLastTimestamp 14 time; deprecatedCount 15 int32',
    EventSeries: 'count 1 int32!; lastObservedTime 2 microTime',
  },
  'authentication.v1': {
    BoundObjectReference: 'kind 1 string; apiVersion 2 string; name 3 string; uid 4 string',
    SelfSubjectReview: 'metadata 1 meta.v1.ObjectMeta; status 2 SelfSubjectReviewStatus',
    SelfSubjectReviewStatus: 'userInfo 1 UserInfo',
    TokenRequest: 'metadata 1 meta.v1.ObjectMeta; spec 2 TokenRequestSpec; status 3 TokenRequestStatus',
    TokenRequestSpec: 'audiences 1 []string; expirationSeconds 4 int64?; boundObjectRef 3 BoundObjectReference',
    TokenRequestStatus: 'token 1 string!; expirationTimestamp 2 time',
    TokenReview: 'metadata 1 meta.v1.ObjectMeta; spec 2 TokenReviewSpec; status 3 TokenReviewStatus',
    TokenReviewSpec: 'token 1 string; audiences 2 []string',
    TokenReviewStatus: 'authenticated 1 bool; user 2 UserInfo; audiences 4 []string; error 3 string',
    UserInfo: 'username 1 string; uid 2 string; groups 3 []string; extra 4 map[string]stringList',
  },
  'authorization.v1': {
    FieldSelectorAttributes: 'rawSelector 1 string; requirements 2 []meta.v1.FieldSelectorRequirement',
    LabelSelectorAttributes: 'rawSelector 1 string; requirements 2 []meta.v1.LabelSelectorRequirement',
    LocalSubjectAccessReview: 'metadata 1 meta.v1.ObjectMeta; spec 2 SubjectAccessReviewSpec; status 3 SubjectAccessReviewStatus',
    NonResourceAttributes: 'path 1 string; verb 2 string',
    NonResourceRule: 'verbs 1 []string; nonResourceURLs 2 []string',
    ResourceAttributes:
      'namespace 1 string; verb 2 string; group 3 string; version 4 string; resource 5 string; subresource 6 string; name 7 string; fieldSelector 8 FieldSelectorAttributes; labelSelector 9 LabelSelectorAttributes',
    ResourceRule: 'verbs 1 []string; apiGroups 2 []string; resources 3 []string; resourceNames 4 []string',
    SelfSubjectAccessReview:
      'metadata 1 meta.v1.ObjectMeta; spec 2 SelfSubjectAccessReviewSpec; status 3 SubjectAccessReviewStatus',
    SelfSubjectAccessReviewSpec: 'resourceAttributes 1 ResourceAttributes; nonResourceAttributes 2 NonResourceAttributes',
    SelfSubjectRulesReview: 'metadata 1 meta.v1.ObjectMeta; spec 2 SelfSubjectRulesReviewSpec; status 3 SubjectRulesReviewStatus',
    SelfSubjectRulesReviewSpec: 'namespace 1 string',
    SubjectAccessReview: 'metadata 1 meta.v1.ObjectMeta; spec 2 SubjectAccessReviewSpec; status 3 SubjectAccessReviewStatus',
    SubjectAccessReviewSpec:
      'resourceAttributes 1 ResourceAttributes; nonResourceAttributes 2 NonResourceAttributes; user 3 string; groups 4 []string; extra 5 map[string]stringList; uid 6 string',
    SubjectAccessReviewStatus: 'allowed 1 bool!; denied 4 bool; reason 2 string; evaluationError 3 string',
    SubjectRulesReviewStatus:
      'resourceRules 1 []ResourceRule; nonResourceRules 2 []NonResourceRule; incomplete 3 bool!; evaluationError 4 string',
  },
  'certificates.v1': {
    CertificateSigningRequest:
      'metadata 1 meta.v1.ObjectMeta; spec 2 CertificateSigningRequestSpec; status 3 CertificateSigningRequestStatus',
    CertificateSigningRequestCondition:
      'type 1 string!; status 6 string!; reason 2 string; message 3 string; lastUpdateTime 4 time; lastTransitionTime 5 time',
    CertificateSigningRequestSpec:
      'request 1 bytes!; signerName 7 string!; expirationSeconds 8 int32?; usages 5 []string; username 2 string; uid 3 string; groups 4 []string; extra 6 map[string]stringList',
    CertificateSigningRequestStatus: 'conditions 1 []CertificateSigningRequestCondition; certificate 2 bytes',
  },
};

/** Root message of each (apiVersion, kind) accepted in a protobuf request body. DeleteOptions is accepted under any apiVersion. */
export const KIND_MESSAGES: Readonly<Record<string, string>> = {
  'v1/Namespace': 'core.v1.Namespace',
  'v1/ConfigMap': 'core.v1.ConfigMap',
  'v1/Secret': 'core.v1.Secret',
  'v1/Service': 'core.v1.Service',
  'v1/ServiceAccount': 'core.v1.ServiceAccount',
  'v1/Pod': 'core.v1.Pod',
  'v1/PodTemplate': 'core.v1.PodTemplate',
  'v1/ReplicationController': 'core.v1.ReplicationController',
  'v1/ResourceQuota': 'core.v1.ResourceQuota',
  'v1/LimitRange': 'core.v1.LimitRange',
  'v1/PersistentVolumeClaim': 'core.v1.PersistentVolumeClaim',
  'v1/PersistentVolume': 'core.v1.PersistentVolume',
  'v1/Event': 'core.v1.Event',
  'v1/Endpoints': 'core.v1.Endpoints',
  'v1/Node': 'core.v1.Node',
  'v1/Binding': 'core.v1.Binding',
  'apps/v1/Deployment': 'apps.v1.Deployment',
  'apps/v1/ReplicaSet': 'apps.v1.ReplicaSet',
  'apps/v1/StatefulSet': 'apps.v1.StatefulSet',
  'apps/v1/DaemonSet': 'apps.v1.DaemonSet',
  'apps/v1/ControllerRevision': 'apps.v1.ControllerRevision',
  'batch/v1/Job': 'batch.v1.Job',
  'batch/v1/CronJob': 'batch.v1.CronJob',
  'autoscaling/v1/HorizontalPodAutoscaler': 'autoscaling.v1.HorizontalPodAutoscaler',
  'autoscaling/v1/Scale': 'autoscaling.v1.Scale',
  'autoscaling/v2/HorizontalPodAutoscaler': 'autoscaling.v2.HorizontalPodAutoscaler',
  'networking.k8s.io/v1/Ingress': 'networking.v1.Ingress',
  'networking.k8s.io/v1/IngressClass': 'networking.v1.IngressClass',
  'networking.k8s.io/v1/NetworkPolicy': 'networking.v1.NetworkPolicy',
  'rbac.authorization.k8s.io/v1/Role': 'rbac.v1.Role',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'rbac.v1.ClusterRole',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'rbac.v1.RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': 'rbac.v1.ClusterRoleBinding',
  'policy/v1/PodDisruptionBudget': 'policy.v1.PodDisruptionBudget',
  'policy/v1/Eviction': 'policy.v1.Eviction',
  'scheduling.k8s.io/v1/PriorityClass': 'scheduling.v1.PriorityClass',
  'storage.k8s.io/v1/StorageClass': 'storage.v1.StorageClass',
  'coordination.k8s.io/v1/Lease': 'coordination.v1.Lease',
  'discovery.k8s.io/v1/EndpointSlice': 'discovery.v1.EndpointSlice',
  'events.k8s.io/v1/Event': 'events.v1.Event',
  'authentication.k8s.io/v1/TokenRequest': 'authentication.v1.TokenRequest',
  'authentication.k8s.io/v1/TokenReview': 'authentication.v1.TokenReview',
  'authentication.k8s.io/v1/SelfSubjectReview': 'authentication.v1.SelfSubjectReview',
  'authorization.k8s.io/v1/SelfSubjectAccessReview': 'authorization.v1.SelfSubjectAccessReview',
  'authorization.k8s.io/v1/SelfSubjectRulesReview': 'authorization.v1.SelfSubjectRulesReview',
  'authorization.k8s.io/v1/SubjectAccessReview': 'authorization.v1.SubjectAccessReview',
  'authorization.k8s.io/v1/LocalSubjectAccessReview': 'authorization.v1.LocalSubjectAccessReview',
  'certificates.k8s.io/v1/CertificateSigningRequest': 'certificates.v1.CertificateSigningRequest',
};

export const DELETE_OPTIONS_MESSAGE = 'meta.v1.DeleteOptions';

export const STATUS_MESSAGE = 'meta.v1.Status';

/**
 * The root message name for an (apiVersion, kind), or undefined when protobuf bodies of that kind
 * are not understood. `<Kind>List` of a known kind is `<message>List` (every Kubernetes list
 * message is `{ metadata = 1 ListMeta, items = 2 repeated <Kind> }`), and `v1/Status` is meta.v1.Status.
 */
export function messageNameFor(apiVersion: string, kind: string): string | undefined {
  if (kind === 'DeleteOptions' && apiVersion !== '') return DELETE_OPTIONS_MESSAGE;
  if (kind === 'Status' && apiVersion === 'v1') return STATUS_MESSAGE;
  const known = (k: string) =>
    Object.prototype.hasOwnProperty.call(KIND_MESSAGES, `${apiVersion}/${k}`) ? KIND_MESSAGES[`${apiVersion}/${k}`] : undefined;
  if (kind.endsWith('List') && kind.length > 4) {
    const item = known(kind.slice(0, -4));
    if (item) return `${item}List`;
  }
  return known(kind);
}

let parsed: Map<string, MessageSchema> | undefined;

/** The schema of a message by qualified name (`core.v1.PodSpec`); parsed from the tables once, on first use. */
export function messageSchema(name: string): MessageSchema | undefined {
  parsed ??= parseTables(MESSAGE_TABLES);
  return parsed.get(name);
}

/** All message names in the tables (for tests that check every reference resolves). */
export function messageNames(): string[] {
  parsed ??= parseTables(MESSAGE_TABLES);
  return [...parsed.keys()];
}

function parseTables(tables: Record<string, Record<string, string>>): Map<string, MessageSchema> {
  const out = new Map<string, MessageSchema>();
  // The list message of each root kind, generated as Go's generated.proto declares them.
  const listTables: Record<string, Record<string, string>> = {};
  for (const message of Object.values(KIND_MESSAGES)) {
    const dot = message.lastIndexOf('.');
    const pkg = message.slice(0, dot);
    const name = message.slice(dot + 1);
    if (tables[pkg]?.[`${name}List`]) continue;
    (listTables[pkg] ??= {})[`${name}List`] = `metadata 1 meta.v1.ListMeta; items 2 []${name}`;
  }
  tables = { ...tables };
  for (const [pkg, lists] of Object.entries(listTables)) tables[pkg] = { ...lists, ...tables[pkg] };
  for (const [pkg, messages] of Object.entries(tables)) {
    for (const [name, spec] of Object.entries(messages)) {
      const fields = new Map<number, FieldSchema>();
      for (const entry of spec.split(';')) {
        const field = parseField(pkg, entry.trim(), `${pkg}.${name}`);
        if (fields.has(field.number)) throw new Error(`protobuf schema ${pkg}.${name}: duplicate field number ${field.number}`);
        fields.set(field.number, field);
      }
      out.set(`${pkg}.${name}`, { name: `${pkg}.${name}`, fields });
    }
  }
  // Every message reference must resolve: a typo in a table is a programming error, found at load.
  for (const message of out.values()) {
    for (const field of message.fields.values()) {
      if (field.type.kind === 'message' && !out.has(field.type.message)) {
        throw new Error(`protobuf schema ${message.name}.${field.json ?? '(inline)'}: unknown message ${field.type.message}`);
      }
    }
  }
  return out;
}

function parseField(pkg: string, entry: string, where: string): FieldSchema {
  const m = /^(\S+) (\d+) (\[\]|map\[string\])?([A-Za-z0-9.]+)([?!])?$/.exec(entry);
  if (!m) throw new Error(`protobuf schema ${where}: cannot parse field "${entry}"`);
  const [, json, number, container, typeName, flag] = m;
  let type: ValueType;
  if (SCALARS.has(typeName)) type = { kind: 'scalar', scalar: typeName as ScalarType };
  else if (SPECIALS.has(typeName)) type = { kind: 'special', special: typeName as SpecialType };
  else type = { kind: 'message', message: typeName.includes('.') ? typeName : `${pkg}.${typeName}` };
  return {
    number: Number(number),
    json: json === '...' ? undefined : json,
    type,
    cardinality: container === '[]' ? 'repeated' : container ? 'map' : 'single',
    keepZero: flag !== undefined,
  };
}
