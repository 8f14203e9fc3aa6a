package syncproto

// Codes of the photo transfer (docs/PROTOCOL.md §19). They answer the
// /v1/photos endpoints only; the records' sync never waits for them.
const (
	// CodePhotoUnreferenced: no field report the device may see names the
	// photo, so there is nothing to store it for (or to send).
	CodePhotoUnreferenced Code = "photo_unreferenced"
	// CodePhotoMissing: a report names the photo, but the server does not
	// hold it yet (its device has not sent it); ask again later.
	CodePhotoMissing Code = "photo_missing"
	// CodeUploadOffset: the chunks do not continue the stored upload; the
	// answer carries the stored length to resume from.
	CodeUploadOffset Code = "upload_offset"
	// CodeChunkDigest: a chunk's bytes do not match its SHA-256. The
	// chunks before it are kept.
	CodeChunkDigest Code = "chunk_digest"
	// CodeTruncated: the upload's body ended inside a chunk. The chunks
	// before it are kept.
	CodeTruncated Code = "truncated"
	// CodePhotoDigest: the whole upload does not hash to the photo's
	// digest; it is dropped.
	CodePhotoDigest Code = "photo_digest"
	// CodeNotAnImage: the upload is not a JPEG that decodes, or its header
	// claims more pixels than the server takes; it is dropped.
	CodeNotAnImage Code = "not_an_image"
)

func init() {
	hints[CodePhotoUnreferenced] = [2]string{
		"Không có phản ánh nào (trong các ấp/khóm của tổ bạn) gắn ảnh này, nên máy chủ không nhận hoặc không gửi nó. Hãy đồng bộ lại để gửi phản ánh trước; ảnh sẽ được gửi sau.",
		"No field report (in your team's hamlets) names this photo, so the server neither takes nor sends it. Sync again so the report goes first; the photo follows.",
	}
	hints[CodePhotoMissing] = [2]string{
		"Máy chủ chưa có ảnh này: máy của người chụp chưa gửi lên. Hamlet sẽ thử tải lại ở lần đồng bộ sau.",
		"The server does not have this photo yet: the laptop that took it has not sent it. Hamlet tries again at the next sync.",
	}
	hints[CodeUploadOffset] = [2]string{
		"Phần ảnh gửi lên không nối tiếp phần máy chủ đã có. Hamlet sẽ tự gửi tiếp từ đúng chỗ.",
		"The photo's chunks do not continue what the server holds. Hamlet resumes from the right place by itself.",
	}
	hints[CodeChunkDigest] = [2]string{
		"Một phần ảnh bị hỏng trên đường truyền. Các phần trước đã được lưu; Hamlet sẽ gửi lại phần này.",
		"A chunk of the photo was damaged in transit. The chunks before it are kept; Hamlet sends this one again.",
	}
	hints[CodeTruncated] = [2]string{
		"Kết nối bị ngắt giữa chừng khi gửi ảnh. Các phần đã gửi được giữ lại; Hamlet sẽ gửi tiếp phần còn lại.",
		"The connection broke while the photo was being sent. What arrived is kept; Hamlet sends the rest.",
	}
	hints[CodePhotoDigest] = [2]string{
		"Ảnh nhận được không khớp với ảnh đã ghi trong phản ánh nên máy chủ không lưu. Hamlet sẽ gửi lại từ đầu; nếu vẫn lỗi, hãy báo cán bộ CNTT.",
		"The photo received does not match the one the report names, so the server did not keep it. Hamlet sends it again from the start; if this persists, tell IT staff.",
	}
	hints[CodeNotAnImage] = [2]string{
		"Tệp gửi lên không phải ảnh JPEG hợp lệ (hoặc ảnh quá lớn) nên máy chủ không lưu. Hãy gắn lại ảnh bằng Hamlet (hamlet-agent report attach).",
		"The file sent is not a valid JPEG photo (or is too large), so the server did not keep it. Attach the photo again with Hamlet (hamlet-agent report attach).",
	}
}
