package alifake

import (
	"fmt"
	"net/http"
)

// Drive names accepted by AddFileTo, AddFolderTo, AddSyntheticTo, FileIDIn,
// RemoveFrom and DriveIDOf. They are the values of AList's drive_type option
// for the Open driver, which picks <drive_type>_drive_id from getDriveInfo
// (§3.1, §3.2). An account has two drives (§16): the backup drive, which is
// also its default drive ("the default is the backup drive, formerly called
// the file drive"), and the resource drive; DriveDefault and DriveBackup name
// the same tree.
const (
	DriveDefault  = "default"
	DriveResource = "resource"
	DriveBackup   = "backup"
)

// resourceDriveSuffix derives the id of the resource drive from
// Options.DriveID. Real drive ids are short decimal strings too (§3.2).
const resourceDriveSuffix = "1"

// drive returns the tree of the named drive, or nil for an unknown name.
// The two trees are fixed at New, so the pointer may be taken without
// Fake.mu; their contents may not.
func (f *Fake) drive(name string) *fileSystem {
	switch name {
	case DriveDefault, DriveBackup:
		return &f.fs
	case DriveResource:
		return &f.resource
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

// driveByID returns the tree whose drive id is id, or nil. Both APIs see
// both drives (§16); only the share download checks for the default drive.
func (f *Fake) driveByID(id string) *fileSystem {
	for _, fs := range []*fileSystem{&f.fs, &f.resource} {
		if fs.driveID == id {
			return fs
		}
	}
	return nil
}

// DriveIDOf returns the id of the named drive: Options.DriveID for
// "default" and "backup", and that id with "1" appended for "resource". It
// panics on an unknown name.
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

// legacyDriveByID returns the tree of one of the drives the legacy API
// reaches with the user's token: the default drive and the resource drive
// (§16: one token chain serves every drive; drive_id is a field of each
// request), or nil.
func (f *Fake) legacyDriveByID(id string) *fileSystem { return f.driveByID(id) }

// legacyDrive is legacyDriveByID that answers 404 NotFound.Drive itself.
func (f *Fake) legacyDrive(w http.ResponseWriter, id string) (*fileSystem, bool) {
	fs := f.legacyDriveByID(id)
	if fs == nil {
		writeAPIError(w, http.StatusNotFound, "NotFound.Drive", msgDriveNotFound)
		return nil, false
	}
	return fs, true
}
