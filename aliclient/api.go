package aliclient

import (
	"strings"
	"time"
)

// This file holds the drive's wire types (spec §1, §4, §5, §9), kept apart from the
// logic like rclone's api/types.go. Only the fields alilink reads are modelled.

// tokenRequest is the body of POST /v2/account/token (spec §1.1).
type tokenRequest struct {
	RefreshToken string `json:"refresh_token"`
	GrantType    string `json:"grant_type"`
}

// tokenResponse is the answer of the token endpoint. refresh_token rotates on
// every call: the one sent is spent once this arrives.
type tokenResponse struct {
	AccessToken    string `json:"access_token"`
	RefreshToken   string `json:"refresh_token"`
	ExpiresIn      int64  `json:"expires_in"`
	TokenType      string `json:"token_type"`
	UserID         string `json:"user_id"`
	DefaultDriveID string `json:"default_drive_id"`
}

// userResponse is the answer of POST /v2/user/get.
type userResponse struct {
	UserID         string `json:"user_id"`
	DefaultDriveID string `json:"default_drive_id"`
	UserName       string `json:"user_name"`
	// The account's two drives (spec §16); the default is the backup drive.
	BackupDriveID   string `json:"backup_drive_id"`
	ResourceDriveID string `json:"resource_drive_id"`
}

// createSessionRequest is the body of /users/v1/users/device/create_session (spec §2.3).
type createSessionRequest struct {
	DeviceName   string `json:"deviceName"`
	ModelName    string `json:"modelName"`
	Nonce        int    `json:"nonce"`
	PubKey       string `json:"pubKey"`
	RefreshToken string `json:"refreshToken"`
}

// listRequest is the body of POST /adrive/v3/file/list (spec §4.1).
type listRequest struct {
	DriveID        string `json:"drive_id"`
	ParentFileID   string `json:"parent_file_id"`
	Limit          int    `json:"limit"`
	Marker         string `json:"marker"`
	OrderBy        string `json:"order_by"`
	OrderDirection string `json:"order_direction"`
	Fields         string `json:"fields"`
	All            bool   `json:"all"`
	URLExpireSec   int    `json:"url_expire_sec"`
}

type listResponse struct {
	Items      []fileJSON `json:"items"`
	NextMarker string     `json:"next_marker"`
}

// getRequest is the body of /v2/file/get.
type getRequest struct {
	DriveID string `json:"drive_id"`
	FileID  string `json:"file_id"`
}

// getByPathRequest is the body of /v2/file/get_by_path; file_path is absolute
// from the drive's root.
type getByPathRequest struct {
	DriveID  string `json:"drive_id"`
	FilePath string `json:"file_path"`
}

// downloadURLRequest is the body of /v2/file/get_download_url (spec §5.1).
type downloadURLRequest struct {
	DriveID   string `json:"drive_id"`
	FileID    string `json:"file_id"`
	ExpireSec int    `json:"expire_sec"`
}

type downloadURLResponse struct {
	URL         string `json:"url"`
	CDNURL      string `json:"cdn_url"`
	Expiration  string `json:"expiration"`
	Method      string `json:"method"`
	Size        int64  `json:"size"`
	ContentHash string `json:"content_hash"`
}

// fileJSON is a file object as the drive sends it.
type fileJSON struct {
	DriveID      string `json:"drive_id"`
	FileID       string `json:"file_id"`
	ParentFileID string `json:"parent_file_id"`
	Name         string `json:"name"`
	FileName     string `json:"file_name"` // open API create/complete spell it so
	Type         string `json:"type"`
	Size         int64  `json:"size"`
	ContentHash  string `json:"content_hash"`
	MimeType     string `json:"mime_type"`
	CreatedAt    string `json:"created_at"`
	UpdatedAt    string `json:"updated_at"`
}

// errorBody is the error shape of every API family (spec §9).
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// File is a drive item as alilink sees it: the driver-neutral form.
type File struct {
	ID       string
	ParentID string
	Name     string
	Folder   bool
	Size     int64
	// ContentHash is the lower-case hex SHA-1 of the content ("" for folders);
	// the drive sends either case (spec §4.1).
	ContentHash string
	MimeType    string
	Created     time.Time
	Modified    time.Time
}

func (j *fileJSON) file() File {
	name := j.Name
	if name == "" {
		name = j.FileName
	}
	return File{
		ID:          j.FileID,
		ParentID:    j.ParentFileID,
		Name:        name,
		Folder:      j.Type == "folder",
		Size:        j.Size,
		ContentHash: strings.ToLower(j.ContentHash),
		MimeType:    j.MimeType,
		Created:     parseTime(j.CreatedAt),
		Modified:    parseTime(j.UpdatedAt),
	}
}

// parseTime reads the drive's RFC 3339 timestamps; a malformed one is the zero time,
// which serving code treats as "unknown".
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// openTokenRequest is the body of the Open platform's /oauth/access_token
// (spec §3.1, §12.1): a refresh, or the QR login's code.
type openTokenRequest struct {
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	GrantType    string `json:"grant_type"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Code         string `json:"code,omitempty"`
}

// driveInfoResponse is the answer of /adrive/v1.0/user/getDriveInfo (spec §3.2).
type driveInfoResponse struct {
	UserID          string `json:"user_id"`
	DefaultDriveID  string `json:"default_drive_id"`
	ResourceDriveID string `json:"resource_drive_id"`
	BackupDriveID   string `json:"backup_drive_id"`
}

// openListRequest is the body of /adrive/v1.0/openFile/list (spec §4.2).
type openListRequest struct {
	DriveID        string `json:"drive_id"`
	ParentFileID   string `json:"parent_file_id"`
	Limit          int    `json:"limit"`
	Marker         string `json:"marker"`
	OrderBy        string `json:"order_by"`
	OrderDirection string `json:"order_direction"`
}

// openLinkResponse is the answer of /adrive/v1.0/openFile/getDownloadUrl (spec §5.2).
type openLinkResponse struct {
	URL        string `json:"url"`
	Expiration string `json:"expiration"`
	Size       int64  `json:"size"`
	// A live photo (.livp) has no url but a link per part, {jpeg, mov}
	// (spec §3.5, §13.8); AList reads streamsUrl, aliyundrive-webdav
	// streams_url, so both spellings are accepted.
	StreamsURL  map[string]string `json:"streamsUrl"`
	StreamsURL2 map[string]string `json:"streams_url"`
}

// shareTokenRequest is the body of /v2/share_link/get_share_token (spec §6).
type shareTokenRequest struct {
	ShareID  string `json:"share_id"`
	SharePwd string `json:"share_pwd,omitempty"`
}

type shareTokenResponse struct {
	ShareToken string `json:"share_token"`
	ExpiresIn  int64  `json:"expires_in"`
	ExpireTime string `json:"expire_time"`
}

// shareListRequest is the body of a share's /adrive/v3/file/list (spec §6).
type shareListRequest struct {
	ShareID        string `json:"share_id"`
	ParentFileID   string `json:"parent_file_id"`
	Limit          int    `json:"limit"`
	Marker         string `json:"marker"`
	OrderBy        string `json:"order_by"`
	OrderDirection string `json:"order_direction"`
}

// shareLinkRequest is the body of /v2/file/get_share_link_download_url (spec §6).
type shareLinkRequest struct {
	DriveID   string `json:"drive_id"`
	FileID    string `json:"file_id"`
	ShareID   string `json:"share_id"`
	ExpireSec int    `json:"expire_sec"`
}

type shareLinkResponse struct {
	DownloadURL string `json:"download_url"`
	URL         string `json:"url"`
}

// createRequest is the body of createWithFolders / openFile/create (spec §7):
// a folder, or a file with its pre-hash, or its content hash and proof.
type createRequest struct {
	DriveID         string     `json:"drive_id"`
	ParentFileID    string     `json:"parent_file_id"`
	Name            string     `json:"name"`
	Type            string     `json:"type"`
	CheckNameMode   string     `json:"check_name_mode"`
	Size            *int64     `json:"size,omitempty"`
	PartInfoList    []partInfo `json:"part_info_list,omitempty"`
	PreHash         string     `json:"pre_hash,omitempty"`
	ContentHash     string     `json:"content_hash,omitempty"`
	ContentHashName string     `json:"content_hash_name,omitempty"`
	ProofVersion    string     `json:"proof_version,omitempty"`
	ProofCode       string     `json:"proof_code,omitempty"`
}

type partInfo struct {
	PartNumber        int    `json:"part_number"`
	UploadURL         string `json:"upload_url,omitempty"`
	InternalUploadURL string `json:"internal_upload_url,omitempty"`
}

// createResponse is the answer of a create: a folder, a rapid upload, or an
// upload session with its part URLs.
type createResponse struct {
	FileID       string     `json:"file_id"`
	FileName     string     `json:"file_name"`
	Type         string     `json:"type"`
	UploadID     string     `json:"upload_id"`
	RapidUpload  bool       `json:"rapid_upload"`
	Exist        bool       `json:"exist"`
	PartInfoList []partInfo `json:"part_info_list"`
}

// uploadURLRequest is the body of get_upload_url / getUploadUrl and complete.
type uploadURLRequest struct {
	DriveID      string     `json:"drive_id"`
	FileID       string     `json:"file_id"`
	UploadID     string     `json:"upload_id"`
	PartInfoList []partInfo `json:"part_info_list,omitempty"`
}

type uploadURLResponse struct {
	PartInfoList []partInfo `json:"part_info_list"`
}
