namespace Skiff.Oci.Tests;

internal static class TestData
{
    /// <summary>A config.json exercising (almost) every Linux field, written the way Go would write it:
    /// no nulls, no omitempty zero values, so a round trip must reproduce it exactly.</summary>
    public const string FullConfig = """
    {
      "ociVersion": "1.2.0",
      "process": {
        "terminal": true,
        "consoleSize": { "height": 25, "width": 80 },
        "user": { "uid": 1000, "gid": 1000, "umask": 18, "additionalGids": [5, 6] },
        "args": ["/bin/app", "--serve", "0.0.0.0:8080"],
        "env": ["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"],
        "cwd": "/srv/app",
        "capabilities": {
          "bounding": ["CAP_NET_BIND_SERVICE", "CAP_KILL"],
          "effective": ["CAP_NET_BIND_SERVICE"],
          "inheritable": ["CAP_NET_BIND_SERVICE"],
          "permitted": ["CAP_NET_BIND_SERVICE", "CAP_KILL"],
          "ambient": ["CAP_NET_BIND_SERVICE"]
        },
        "rlimits": [
          { "type": "RLIMIT_NOFILE", "hard": 4096, "soft": 1024 },
          { "type": "RLIMIT_CORE", "hard": 18446744073709551615, "soft": 0 }
        ],
        "noNewPrivileges": true,
        "apparmorProfile": "skiff-default",
        "oomScoreAdj": -500,
        "scheduler": { "policy": "SCHED_FIFO", "priority": 10, "flags": ["SCHED_FLAG_RESET_ON_FORK"] },
        "selinuxLabel": "system_u:system_r:svirt_lxc_net_t:s0:c124,c675",
        "ioPriority": { "class": "IOPRIO_CLASS_BE", "priority": 4 },
        "execCPUAffinity": { "initial": "0-1", "final": "2" }
      },
      "root": { "path": "rootfs", "readonly": true },
      "hostname": "app-1",
      "domainname": "example.internal",
      "mounts": [
        { "destination": "/proc", "type": "proc", "source": "proc" },
        { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
        {
          "destination": "/data",
          "type": "bind",
          "source": "/var/lib/app",
          "options": ["rbind", "rw"],
          "uidMappings": [{ "containerID": 0, "hostID": 100000, "size": 65536 }],
          "gidMappings": [{ "containerID": 0, "hostID": 100000, "size": 65536 }]
        }
      ],
      "hooks": {
        "prestart": [{ "path": "/usr/bin/fix-mounts", "args": ["fix-mounts", "arg1"], "env": ["key1=value1"] }],
        "createRuntime": [{ "path": "/usr/bin/setup-network", "timeout": 5 }],
        "createContainer": [{ "path": "/usr/bin/mount-hook" }],
        "startContainer": [{ "path": "/usr/bin/refresh-ldcache" }],
        "poststart": [{ "path": "/usr/bin/notify-start", "timeout": 5 }],
        "poststop": [{ "path": "/usr/sbin/cleanup.sh", "args": ["cleanup.sh", "-f"] }]
      },
      "annotations": { "com.example.key1": "value1", "org.opencontainers.image.ref.name": "latest" },
      "linux": {
        "uidMappings": [{ "containerID": 0, "hostID": 100000, "size": 65536 }],
        "gidMappings": [{ "containerID": 0, "hostID": 100000, "size": 65536 }],
        "sysctl": { "net.ipv4.ip_forward": "1", "kernel.shmmax": "68719476736", "fs.mqueue.msg_max": "64" },
        "resources": {
          "devices": [
            { "allow": false, "access": "rwm" },
            { "allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw" },
            { "allow": true, "type": "b", "major": 8, "minor": 0, "access": "r" }
          ],
          "memory": {
            "limit": 536870912, "reservation": 268435456, "swap": 1073741824, "kernel": -1, "kernelTCP": -1,
            "swappiness": 0, "disableOOMKiller": false, "useHierarchy": true, "checkBeforeUpdate": true
          },
          "cpu": {
            "shares": 1024, "quota": 50000, "burst": 10000, "period": 100000, "realtimeRuntime": 950000,
            "realtimePeriod": 1000000, "cpus": "0-3", "mems": "0", "idle": 0
          },
          "pids": { "limit": 32768 },
          "blockIO": {
            "weight": 10, "leafWeight": 10,
            "weightDevice": [{ "major": 8, "minor": 0, "weight": 500, "leafWeight": 300 }],
            "throttleReadBpsDevice": [{ "major": 8, "minor": 0, "rate": 600 }],
            "throttleWriteBpsDevice": [{ "major": 8, "minor": 16, "rate": 300 }],
            "throttleReadIOPSDevice": [{ "major": 8, "minor": 0, "rate": 1000 }],
            "throttleWriteIOPSDevice": [{ "major": 8, "minor": 16, "rate": 2000 }]
          },
          "hugepageLimits": [{ "pageSize": "2MB", "limit": 209715200 }],
          "network": { "classID": 1048577, "priorities": [{ "name": "eth0", "priority": 500 }] },
          "rdma": { "mlx5_1": { "hcaHandles": 3, "hcaObjects": 10000 } },
          "unified": { "io.max": "8:0 rbps=1048576", "memory.high": "400000000" }
        },
        "cgroupsPath": "/skiff/app-1",
        "namespaces": [
          { "type": "pid" },
          { "type": "network", "path": "/var/run/netns/app" },
          { "type": "mount" },
          { "type": "ipc" },
          { "type": "uts" },
          { "type": "user" },
          { "type": "cgroup" },
          { "type": "time" }
        ],
        "devices": [
          { "path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0 },
          { "path": "/dev/sda", "type": "b", "major": 8, "minor": 0, "fileMode": 432 },
          { "path": "/dev/app.fifo", "type": "p", "major": 0, "minor": 0 }
        ],
        "netDevices": { "eth1": { "name": "data0" } },
        "seccomp": {
          "defaultAction": "SCMP_ACT_ERRNO",
          "defaultErrnoRet": 1,
          "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
          "flags": ["SECCOMP_FILTER_FLAG_LOG"],
          "listenerPath": "/run/seccomp-agent.sock",
          "listenerMetadata": "app-1",
          "syscalls": [
            { "names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW" },
            { "names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{ "index": 0, "value": 4294967295, "op": "SCMP_CMP_EQ" }] },
            { "names": ["clone"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "args": [{ "index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ" }] },
            { "names": ["mount"], "action": "SCMP_ACT_NOTIFY" }
          ]
        },
        "rootfsPropagation": "rslave",
        "maskedPaths": ["/proc/kcore", "/sys/firmware"],
        "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"],
        "mountLabel": "system_u:object_r:svirt_sandbox_file_t:s0:c715,c811",
        "intelRdt": { "closID": "guaranteed_group", "l3CacheSchema": "L3:0=7f0;1=1f", "memBwSchema": "MB:0=20;1=70" },
        "memoryPolicy": { "mode": "MPOL_INTERLEAVE", "nodes": "0-1", "flags": ["MPOL_F_STATIC_NODES"] },
        "personality": { "domain": "LINUX" },
        "timeOffsets": { "monotonic": { "secs": 3600, "nanosecs": 500 }, "boottime": { "secs": -60 } }
      }
    }
    """;

    /// <summary>A minimal valid spec to mutate in validator tests.</summary>
    public static Spec Minimal() => new()
    {
        Version = "1.2.0",
        Root = new Root { Path = "rootfs" },
        Process = new Process { Args = ["sh"], Cwd = "/" },
        Linux = new Linux
        {
            Namespaces = [new LinuxNamespace { Type = "pid" }, new LinuxNamespace { Type = "mount" }],
        },
    };
}
