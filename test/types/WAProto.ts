// A slice of Baileys' `WAProto/index.d.ts`, written exactly as protobuf.js's `pbts` emits it:
// interfaces with every field optional and typed `(T|null)`, 64-bit integers as `(number|Long|null)`,
// bytes as `(Uint8Array|null)`, nested messages as their `I…` interfaces, enums as enums. Only
// types: the type-level tests in `baileys.types.ts` check the library's signatures against them.
/* eslint-disable @effect/dprint */

/** The `long` package's class, as protobuf.js declares it. */
export declare class Long {
  constructor(low: number, high?: number, unsigned?: boolean)
  high: number
  low: number
  unsigned: boolean
  toNumber(): number
  toString(radix?: number): string
  add(addend: Long | number | string): Long
  equals(other: Long | number | string): boolean
}

export declare namespace proto {
  interface IMessageKey {
    remoteJid?: (string | null)
    fromMe?: (boolean | null)
    id?: (string | null)
    participant?: (string | null)
  }

  interface IWebMessageInfo {
    key: proto.IMessageKey
    message?: (proto.IMessage | null)
    messageTimestamp?: (number | Long | null)
    status?: (proto.WebMessageInfo.Status | null)
    participant?: (string | null)
    pushName?: (string | null)
    mediaCiphertextSha256?: (Uint8Array | null)
    labels?: (string[] | null)
  }

  namespace WebMessageInfo {
    enum Status {
      ERROR = 0,
      PENDING = 1,
      SERVER_ACK = 2,
      DELIVERY_ACK = 3,
      READ = 4,
      PLAYED = 5
    }
  }

  interface IContextInfo {
    stanzaId?: (string | null)
    participant?: (string | null)
    quotedMessage?: (proto.IMessage | null)
    remoteJid?: (string | null)
    mentionedJid?: (string[] | null)
    conversionData?: (Uint8Array | null)
    forwardingScore?: (number | null)
    isForwarded?: (boolean | null)
    placeholderKey?: (proto.IMessageKey | null)
    expiration?: (number | null)
    ephemeralSettingTimestamp?: (number | Long | null)
    ephemeralSharedSecret?: (Uint8Array | null)
  }

  interface IMessageAssociation {
    associationType?: (proto.MessageAssociation.AssociationType | null)
    parentMessageKey?: (proto.IMessageKey | null)
    messageIndex?: (number | null)
  }

  namespace MessageAssociation {
    enum AssociationType {
      UNKNOWN = 0,
      MEDIA_ALBUM = 1
    }
  }

  interface IMessageContextInfo {
    deviceListMetadataVersion?: (number | null)
    messageSecret?: (Uint8Array | null)
    messageAssociation?: (proto.IMessageAssociation | null)
  }

  interface IExternalBlobReference {
    mediaKey?: (Uint8Array | null)
    directPath?: (string | null)
    handle?: (string | null)
    fileSizeBytes?: (number | Long | null)
    fileSha256?: (Uint8Array | null)
    fileEncSha256?: (Uint8Array | null)
  }

  interface IMessage {
    conversation?: (string | null)
    imageMessage?: (proto.Message.IImageMessage | null)
    extendedTextMessage?: (proto.Message.IExtendedTextMessage | null)
    documentMessage?: (proto.Message.IDocumentMessage | null)
    audioMessage?: (proto.Message.IAudioMessage | null)
    videoMessage?: (proto.Message.IVideoMessage | null)
    protocolMessage?: (proto.Message.IProtocolMessage | null)
    stickerMessage?: (proto.Message.IStickerMessage | null)
    viewOnceMessage?: (proto.Message.IFutureProofMessage | null)
    ephemeralMessage?: (proto.Message.IFutureProofMessage | null)
    viewOnceMessageV2?: (proto.Message.IFutureProofMessage | null)
    documentWithCaptionMessage?: (proto.Message.IFutureProofMessage | null)
    editedMessage?: (proto.Message.IFutureProofMessage | null)
    ptvMessage?: (proto.Message.IVideoMessage | null)
    albumMessage?: (proto.Message.IAlbumMessage | null)
    associatedChildMessage?: (proto.Message.IFutureProofMessage | null)
    stickerPackMessage?: (proto.Message.IStickerPackMessage | null)
    messageContextInfo?: (proto.IMessageContextInfo | null)
  }

  namespace Message {
    interface IFutureProofMessage {
      message?: (proto.IMessage | null)
    }

    interface IAlbumMessage {
      expectedImageCount?: (number | null)
      expectedVideoCount?: (number | null)
      contextInfo?: (proto.IContextInfo | null)
    }

    interface IInteractiveAnnotation {
      polygonVertices?: ({ x?: (number | null); y?: (number | null) }[] | null)
      shouldSkipConfirmation?: (boolean | null)
    }

    interface IImageMessage {
      url?: (string | null)
      mimetype?: (string | null)
      caption?: (string | null)
      fileSha256?: (Uint8Array | null)
      fileLength?: (number | Long | null)
      height?: (number | null)
      width?: (number | null)
      mediaKey?: (Uint8Array | null)
      fileEncSha256?: (Uint8Array | null)
      interactiveAnnotations?: (proto.Message.IInteractiveAnnotation[] | null)
      directPath?: (string | null)
      mediaKeyTimestamp?: (number | Long | null)
      jpegThumbnail?: (Uint8Array | null)
      contextInfo?: (proto.IContextInfo | null)
      firstScanSidecar?: (Uint8Array | null)
      scansSidecar?: (Uint8Array | null)
      scanLengths?: (number[] | null)
      midQualityFileSha256?: (Uint8Array | null)
      viewOnce?: (boolean | null)
      thumbnailDirectPath?: (string | null)
      thumbnailSha256?: (Uint8Array | null)
      thumbnailEncSha256?: (Uint8Array | null)
      staticUrl?: (string | null)
      imageSourceType?: (proto.Message.ImageMessage.ImageSourceType | null)
      accessibilityLabel?: (string | null)
    }

    namespace ImageMessage {
      enum ImageSourceType {
        USER_IMAGE = 0,
        AI_GENERATED = 1
      }
    }

    interface IVideoMessage {
      url?: (string | null)
      mimetype?: (string | null)
      fileSha256?: (Uint8Array | null)
      fileLength?: (number | Long | null)
      seconds?: (number | null)
      mediaKey?: (Uint8Array | null)
      caption?: (string | null)
      gifPlayback?: (boolean | null)
      height?: (number | null)
      width?: (number | null)
      fileEncSha256?: (Uint8Array | null)
      directPath?: (string | null)
      mediaKeyTimestamp?: (number | Long | null)
      jpegThumbnail?: (Uint8Array | null)
      contextInfo?: (proto.IContextInfo | null)
      streamingSidecar?: (Uint8Array | null)
      gifAttribution?: (proto.Message.VideoMessage.Attribution | null)
      viewOnce?: (boolean | null)
      thumbnailDirectPath?: (string | null)
      thumbnailSha256?: (Uint8Array | null)
      thumbnailEncSha256?: (Uint8Array | null)
      staticUrl?: (string | null)
    }

    namespace VideoMessage {
      enum Attribution {
        NONE = 0,
        GIPHY = 1,
        TENOR = 2
      }
    }

    interface IAudioMessage {
      url?: (string | null)
      mimetype?: (string | null)
      fileSha256?: (Uint8Array | null)
      fileLength?: (number | Long | null)
      seconds?: (number | null)
      ptt?: (boolean | null)
      mediaKey?: (Uint8Array | null)
      fileEncSha256?: (Uint8Array | null)
      directPath?: (string | null)
      mediaKeyTimestamp?: (number | Long | null)
      contextInfo?: (proto.IContextInfo | null)
      streamingSidecar?: (Uint8Array | null)
      waveform?: (Uint8Array | null)
      backgroundArgb?: (number | null)
      viewOnce?: (boolean | null)
    }

    interface IDocumentMessage {
      url?: (string | null)
      mimetype?: (string | null)
      title?: (string | null)
      fileSha256?: (Uint8Array | null)
      fileLength?: (number | Long | null)
      pageCount?: (number | null)
      mediaKey?: (Uint8Array | null)
      fileName?: (string | null)
      fileEncSha256?: (Uint8Array | null)
      directPath?: (string | null)
      mediaKeyTimestamp?: (number | Long | null)
      contactVcard?: (boolean | null)
      thumbnailDirectPath?: (string | null)
      thumbnailSha256?: (Uint8Array | null)
      thumbnailEncSha256?: (Uint8Array | null)
      jpegThumbnail?: (Uint8Array | null)
      contextInfo?: (proto.IContextInfo | null)
      thumbnailHeight?: (number | null)
      thumbnailWidth?: (number | null)
      caption?: (string | null)
    }

    interface IStickerMessage {
      url?: (string | null)
      fileSha256?: (Uint8Array | null)
      fileEncSha256?: (Uint8Array | null)
      mediaKey?: (Uint8Array | null)
      mimetype?: (string | null)
      height?: (number | null)
      width?: (number | null)
      directPath?: (string | null)
      fileLength?: (number | Long | null)
      mediaKeyTimestamp?: (number | Long | null)
      firstFrameLength?: (number | null)
      firstFrameSidecar?: (Uint8Array | null)
      isAnimated?: (boolean | null)
      pngThumbnail?: (Uint8Array | null)
      contextInfo?: (proto.IContextInfo | null)
      stickerSentTs?: (number | Long | null)
      isAvatar?: (boolean | null)
    }

    interface IStickerPackMessage {
      stickerPackId?: (string | null)
      name?: (string | null)
      publisher?: (string | null)
      fileLength?: (number | Long | null)
      fileSha256?: (Uint8Array | null)
      fileEncSha256?: (Uint8Array | null)
      mediaKey?: (Uint8Array | null)
      directPath?: (string | null)
      caption?: (string | null)
      contextInfo?: (proto.IContextInfo | null)
      mediaKeyTimestamp?: (number | Long | null)
      thumbnailDirectPath?: (string | null)
      thumbnailSha256?: (Uint8Array | null)
      thumbnailEncSha256?: (Uint8Array | null)
      thumbnailHeight?: (number | null)
      thumbnailWidth?: (number | null)
      stickerPackSize?: (number | Long | null)
    }

    interface IExtendedTextMessage {
      text?: (string | null)
      matchedText?: (string | null)
      description?: (string | null)
      title?: (string | null)
      textArgb?: (number | null)
      backgroundArgb?: (number | null)
      font?: (proto.Message.ExtendedTextMessage.FontType | null)
      jpegThumbnail?: (Uint8Array | null)
      contextInfo?: (proto.IContextInfo | null)
      thumbnailDirectPath?: (string | null)
      thumbnailSha256?: (Uint8Array | null)
      thumbnailEncSha256?: (Uint8Array | null)
      mediaKey?: (Uint8Array | null)
      mediaKeyTimestamp?: (number | Long | null)
      thumbnailHeight?: (number | null)
      thumbnailWidth?: (number | null)
    }

    namespace ExtendedTextMessage {
      enum FontType {
        SYSTEM = 0,
        SYSTEM_TEXT = 1
      }
    }

    interface IProtocolMessage {
      key?: (proto.IMessageKey | null)
      type?: (proto.Message.ProtocolMessage.Type | null)
      historySyncNotification?: (proto.Message.IHistorySyncNotification | null)
      editedMessage?: (proto.IMessage | null)
      timestampMs?: (number | Long | null)
    }

    namespace ProtocolMessage {
      enum Type {
        REVOKE = 0,
        HISTORY_SYNC_NOTIFICATION = 5,
        MESSAGE_EDIT = 14
      }
    }

    interface IHistorySyncNotification {
      fileSha256?: (Uint8Array | null)
      fileLength?: (number | Long | null)
      mediaKey?: (Uint8Array | null)
      fileEncSha256?: (Uint8Array | null)
      directPath?: (string | null)
      syncType?: (proto.Message.HistorySyncNotification.HistorySyncType | null)
      chunkOrder?: (number | null)
      originalMessageId?: (string | null)
      progress?: (number | null)
      oldestMsgInChunkTimestampSec?: (number | Long | null)
      initialHistBootstrapInlinePayload?: (Uint8Array | null)
    }

    namespace HistorySyncNotification {
      enum HistorySyncType {
        INITIAL_BOOTSTRAP = 0,
        INITIAL_STATUS_V3 = 1,
        FULL = 2,
        RECENT = 3
      }
    }
  }
}
