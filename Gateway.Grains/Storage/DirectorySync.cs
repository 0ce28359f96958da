using System.ComponentModel;
using System.Runtime.InteropServices;

namespace Gateway.Storage;

/// <summary>
/// Makes directory entries durable. A file's fsync covers its data, not its name: a file created, renamed or removed
/// survives a power cut only once its directory is fsynced (POSIX; ext4 usually orders it, other file systems do not).
/// .NET has no API for it (<c>File.OpenHandle</c> refuses directories), so this opens the directory with libc.
/// </summary>
public static class DirectorySync
{
    private const int ReadOnly = 0; // O_RDONLY, the same on every Linux architecture; enough to fsync a directory
    private const int InvalidArgument = 22; // EINVAL: the file system cannot sync directories, nothing more to do

    /// <summary>Fsyncs <paramref name="folder"/>, so the names created, renamed or removed in it survive a power cut.</summary>
    public static void Sync(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        if (OperatingSystem.IsWindows())
        {
            return; // NTFS journals its metadata; there is no directory handle to flush
        }

        var descriptor = Open(folder, ReadOnly);
        if (descriptor < 0)
        {
            throw Error("open", folder);
        }

        try
        {
            if (Fsync(descriptor) != 0 && Marshal.GetLastPInvokeError() != InvalidArgument)
            {
                throw Error("fsync", folder);
            }
        }
        finally
        {
            _ = Close(descriptor);
        }
    }

    /// <summary>
    /// Creates <paramref name="folder"/> and any missing parents, then fsyncs the parent of each folder it created, so
    /// that what is written inside is not lost with a folder whose own name never reached the disk.
    /// </summary>
    public static void CreateDirectory(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var missing = new List<string>();
        for (var current = Path.GetFullPath(folder); !Directory.Exists(current); current = Path.GetDirectoryName(current)!)
        {
            missing.Add(current);
        }

        if (missing.Count == 0)
        {
            return;
        }

        Directory.CreateDirectory(folder);
        foreach (var created in missing)
        {
            Sync(Path.GetDirectoryName(created)!);
        }
    }

    private static IOException Error(string call, string folder)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new IOException($"{call} of directory '{folder}' failed: {new Win32Exception(errno).Message}", errno);
    }

    // DllImport, not LibraryImport: the generated marshalling needs unsafe code, which the project does not allow.
    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int descriptor);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int descriptor);
}
