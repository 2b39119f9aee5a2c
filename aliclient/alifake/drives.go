package alifake

import "fmt"

// Drive names accepted by AddFileTo, AddFolderTo, AddSyntheticTo, FileIDIn,
// RemoveFrom and DriveIDOf. They are the values of AList's drive_type option
// for the Open driver, which picks <drive_type>_drive_id from getDriveInfo
// (§3.1, §3.2).
const (
	DriveDefault  = "default"
	DriveResource = "resource"
	DriveBackup   = "backup"
)

// Suffixes that derive the ids of the resource and backup drives from
// Options.DriveID. Real drive ids are short decimal strings too (§3.2).
const (
	resourceDriveSuffix = "1"
	backupDriveSuffix   = "2"
)

// drive returns the tree of the named drive, or nil for an unknown name.
// The three trees are fixed at New, so the pointer may be taken without
// Fake.mu; their contents may not.
func (f *Fake) drive(name string) *fileSystem {
	switch name {
	case DriveDefault:
		return &f.fs
	case DriveResource:
		return &f.resource
	case DriveBackup:
		return &f.backup
	}
	return nil
}

// mustDrive is drive for the setup helpers: a mistyped drive name is a
// broken fixture and panics, like a file path used as a folder.
func (f *Fake) mustDrive(name string) *fileSystem {
	fs := f.drive(name)
	if fs == nil {
		panic(fmt.Sprintf("alifake: unknown drive %q (want %q, %q or %q)", name, DriveDefault, DriveResource, DriveBackup))
	}
	return fs
}

// driveByID returns the tree whose drive id is id, or nil. The legacy API
// only ever sees the default drive (checkDrive); the Open API sees all three.
func (f *Fake) driveByID(id string) *fileSystem {
	for _, fs := range []*fileSystem{&f.fs, &f.resource, &f.backup} {
		if fs.driveID == id {
			return fs
		}
	}
	return nil
}

// DriveIDOf returns the id of the named drive: Options.DriveID for
// "default", and that id with "1" or "2" appended for "resource" and
// "backup". It panics on an unknown name.
func (f *Fake) DriveIDOf(drive string) string { return f.mustDrive(drive).driveID }

// AddFolderTo is AddFolder in the named drive.
func (f *Fake) AddFolderTo(drive, path string) string {
	fs := f.mustDrive(drive)
	f.mu.Lock()
	defer f.mu.Unlock()
	return fs.folderAt(helperNames(path), f.stamp()).id
}

// AddFileTo is AddFile in the named drive.
func (f *Fake) AddFileTo(drive, path string, data []byte) string {
	fs := f.mustDrive(drive)
	b := &blob{data: append([]byte{}, data...), size: int64(len(data))}
	f.mu.Lock()
	defer f.mu.Unlock()
	return fs.putFile(path, b, f.stamp())
}

// AddSyntheticTo is AddSynthetic in the named drive. The content depends on
// the path only, so the same path in two drives holds the same bytes.
func (f *Fake) AddSyntheticTo(drive, path string, size int64) string {
	fs := f.mustDrive(drive)
	if size < 0 {
		panic("alifake: negative size")
	}
	b := &blob{synth: synthetic{seed: syntheticSeed(path), size: size}, size: size}
	f.mu.Lock()
	defer f.mu.Unlock()
	return fs.putFile(path, b, f.stamp())
}

// RemoveFrom is Remove in the named drive.
func (f *Fake) RemoveFrom(drive, path string) {
	fs := f.mustDrive(drive)
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := fs.lookup(helperNames(path)); n != nil {
		fs.remove(n)
	}
}

// FileIDIn is FileID in the named drive.
func (f *Fake) FileIDIn(drive, path string) (string, bool) {
	fs := f.mustDrive(drive)
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := fs.lookup(helperNames(path)); n != nil {
		return n.id, true
	}
	return "", false
}
